"""Networks for state trajectories: the vector-field MLP, the HNN, the embedding MLP, CN layers.

The video models (SVG and its frame-pair embedding) live in :mod:`noether_lite.video`.
"""
from .mlp import ACTIVATIONS, HNN, MLP, CondNorm, EmbeddingMLP, ScaleFree, SeparableEmbedding

__all__ = ["MLP", "HNN", "EmbeddingMLP", "SeparableEmbedding", "ScaleFree", "CondNorm", "ACTIVATIONS"]

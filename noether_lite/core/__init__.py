"""The method itself: the Noether loss, the tailoring step, the learner, training.

* :mod:`.conservation` — Noether embeddings ``g`` and the Noether loss of a rollout.
* :mod:`.tailor` — the tailoring engine: all-weights and CNGrad inner steps, batched.
* :mod:`.learner` — what every Noether learner shares (its tailoring config and ``λ_in``).
* :mod:`.network` — :class:`NoetherNetwork`, the learner for state trajectories.
* :mod:`.train` — the one training loop, :func:`fit`; :mod:`.checkpoints` — its files and the device.
* :mod:`.metrics` — rollout metrics; :mod:`.outputs` — result files; :mod:`.registry` — name registries.
"""
from .registry import Registry
from .conservation import EMBEDDINGS, LOSS_FORMS, FormulaEmbedding, OracleEmbedding, noether_loss
from .tailor import InnerLR, TailorConfig, TailorResult, per_example, tailor_cn, tailor_weights
from .learner import TailoredLearner
from .network import NoetherNetwork
from .checkpoints import auto_device, load_checkpoint, save_checkpoint
from .train import History, fit, seed_everything
from .metrics import energy_drift, rmse, rmse_per_horizon
from .outputs import check_output_file, check_output_folder, write_json

__all__ = [
    "Registry", "noether_loss", "OracleEmbedding", "FormulaEmbedding", "EMBEDDINGS", "LOSS_FORMS",
    "TailorConfig", "TailorResult", "InnerLR", "tailor_weights", "tailor_cn", "per_example",
    "TailoredLearner", "NoetherNetwork", "History", "fit", "seed_everything",
    "auto_device", "save_checkpoint", "load_checkpoint", "rmse", "rmse_per_horizon", "energy_drift",
    "check_output_file", "check_output_folder", "write_json",
]

"""Run by ``tests/core/test_distributed.py`` under torchrun: train the tiny video learner
data-parallel (float64, gloo) straight for 4 steps, and again stopped after 2 and resumed from
rank 0's checkpoint; rank 0 saves the weights and histories to ``argv[1]``."""
import sys
from pathlib import Path

import torch

from noether_lite.core import distributed
from noether_lite.video.render import RampConfig, render_ramp
from noether_lite.video.train import VideoTrainConfig, train_video
from tests.tiny import tiny

#: What the test compares: the same data, model and global batch in one process and in two.
DATA = RampConfig(size=16, n_frames=6, n_objects=3, clips_per_object=2)
CFG = VideoTrainConfig(steps=4, batch_size=4, lr=1e-3, inner_steps=1, amp="none", log_every=1, ckpt_every=1)


def train(ckpt=None, max_steps=None, learner=None):
    m = learner if learner is not None else tiny(torch.float64)
    h = train_video(m, render_ramp(DATA), CFG, device="cpu", progress=False, ckpt_path=ckpt,
                    max_steps=max_steps)
    return m, h


def main(out: str) -> None:
    torch.set_num_threads(1)
    dev = distributed.init_from_env("cpu")
    w = distributed.world()
    assert w.size == 2 and dev.type == "cpu", (w, dev)
    straight, h = train()
    ck = Path(out).with_suffix(".ckpt.pt")
    train(ck, max_steps=2)
    resumed, h2 = train(ck)
    if w.main:
        torch.save({"straight": straight.state_dict(), "loss": h.loss, "task": h.extras["task"],
                    "reverted": h.reverted, "resumed": resumed.state_dict(), "resumed_loss": h2.loss,
                    "steps_done": h2.steps_done}, out)
    distributed.shutdown()


if __name__ == "__main__":
    main(sys.argv[1])

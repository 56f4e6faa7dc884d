"""Run the `tooln1` CLI in this process and SIGKILL it at a chosen moment of a training run (a real `kill -9`).

Example:
    TOOLN1_KILL_AT=weights:2 python tests/train/kill_driver.py train grpo --config configs/tiny_ci.yaml ...

`TOOLN1_KILL_AT` picks the moment (the checkpoint save order is transformers' own: weights, optimizer and
scheduler, RNG state, then trainer_state.json last):
    weights:N  checkpoint-N has its weights but nothing after them
    state:N    checkpoint-N's trainer_state.json is half written
    final      every checkpoint is saved; the kill comes as the final model is about to be written
Unset, the run goes untouched (the test then kills it from outside, at whatever moment it has reached).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path


def _die() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _install(point: str) -> None:
    import transformers

    kind, _, n = point.partition(":")
    if kind == "weights":
        original = transformers.Trainer._save_optimizer_and_scheduler

        def save_optimizer(self, output_dir):  # type: ignore[no-untyped-def]
            if Path(output_dir).name == f"checkpoint-{n}":
                _die()
            return original(self, output_dir)

        transformers.Trainer._save_optimizer_and_scheduler = save_optimizer
    elif kind == "state":
        original_state = transformers.TrainerState.save_to_json

        def save_state(self, json_path):  # type: ignore[no-untyped-def]
            if Path(json_path).parent.name != f"checkpoint-{n}":
                return original_state(self, json_path)
            original_state(self, json_path)
            text = Path(json_path).read_bytes()
            Path(json_path).write_bytes(text[: len(text) // 2])
            _die()

        transformers.TrainerState.save_to_json = save_state
    elif kind == "final":
        import tooln1.train.run as run

        run._save_final = lambda trainer, cfg: _die()
    else:
        raise SystemExit(f"unknown TOOLN1_KILL_AT {point!r}")


if __name__ == "__main__":
    if os.environ.get("TOOLN1_KILL_AT"):
        _install(os.environ["TOOLN1_KILL_AT"])
    from tooln1.cli import main

    sys.exit(main(sys.argv[1:]))

"""Trainer callbacks that fill the run folder: one metrics JSONL line per logging step, the training-curve PNG.

Example (a line of RUN/metrics.jsonl from a GRPO run; the rates come from `tooln1.rewards.TrlReward`):

    {"step": 3, "epoch": 0.5, "loss": 0.01, "reward": 0.25, "format_rate": 0.5, "reason/ok": 0.25,
     "kl": 0.0004, "completions/mean_length": 61.0, "step_seconds": 41.2, "rss_gib": 6.9}

TensorBoard gets the same scalars through transformers' own TensorBoardCallback (`report_to: [tensorboard]`).
The final summary log of a run (train_runtime, ...) goes to RUN/train_summary.json, not the JSONL, so the JSONL
holds exactly one line per logged optimizer step, which the resume check relies on. `StopIfAlreadyTrained` keeps a
run resumed from the checkpoint of its last step from training (and logging) a step past `max_steps`.
"""

from __future__ import annotations

import json
import logging
import resource
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

logger = logging.getLogger(__name__)

METRICS_FILE = "metrics.jsonl"
SUMMARY_FILE = "train_summary.json"
PLOT_FILE = "training_curves.png"
# Panels of the PNG per mode: (metric key, title). A key a run never logged (kl with beta 0) shows "not logged".
PLOT_KEYS = {
    "grpo": (("reward", "reward (mean)"), ("format_rate", "format rate"), ("kl", "KL to reference"),
             ("completions/mean_length", "completion length (tokens)")),
    "sft": (("loss", "loss"), ("mean_token_accuracy", "token accuracy"), ("grad_norm", "grad norm"),
            ("learning_rate", "learning rate")),
}  # fmt: skip
SUMMARY_KEYS = ("train_runtime", "train_samples_per_second", "train_steps_per_second", "train_loss")


def peak_rss_gib() -> float:
    """Peak resident memory of this process so far, in GiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    path = Path(run_dir) / METRICS_FILE
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and not text.endswith("\n"):
        try:
            json.loads(lines[-1])
        except ValueError:  # a line cut short by a kill during its write: that step was never checkpointed
            logger.warning("%s: ignoring a last line cut short: %s", path, lines.pop()[:80])
    return [json.loads(line) for line in lines]


def truncate_metrics(run_dir: str | Path, last_step: int) -> int:
    """Keep only the lines up to `last_step` (a resumed run logs the later steps again); returns lines kept."""
    path = Path(run_dir) / METRICS_FILE
    kept = [m for m in read_metrics(run_dir) if m["step"] <= last_step]
    path.write_text("".join(json.dumps(m) + "\n" for m in kept), encoding="utf-8")
    return len(kept)


class MetricsJsonlCallback(TrainerCallback):
    """Append every training log (all TRL metrics and the reward's rates) as one JSON line; add step time and RSS."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self._step_start: float | None = None
        self._step_seconds: float | None = None

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._step_start = time.perf_counter()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self._step_start is not None:
            self._step_seconds = time.perf_counter() - self._step_start

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero or not logs:
            return
        if any(k in logs for k in SUMMARY_KEYS):
            summary = {"step": state.global_step, **logs, "peak_rss_gib": round(peak_rss_gib(), 3)}
            (self.run_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
            return
        line = {"step": state.global_step, **logs, "step_seconds": self._step_seconds, "rss_gib": peak_rss_gib()}
        with (self.run_dir / METRICS_FILE).open("a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")


class AlreadyTrained(Exception):
    """Raised out of `trainer.train()` by `StopIfAlreadyTrained`: the resumed checkpoint is at `max_steps` already."""

    def __init__(self, step: int, max_steps: int) -> None:
        super().__init__(f"the resumed checkpoint is at step {step}, max_steps is {max_steps}: nothing to train")
        self.step, self.max_steps = step, max_steps


class StopIfAlreadyTrained(TrainerCallback):
    """Leave `trainer.train()` before its first step when the checkpoint it resumed from has reached `max_steps`.

    Why: transformers (5.24) resumes by fast-forwarding the dataloader past the batches already trained and then runs
    the rest of that epoch; it compares `global_step` with `max_steps` only *after* a step (DefaultFlowCallback's
    `on_step_end`). Resumed from the checkpoint of the last step (a kill after it, before the final model was saved),
    it therefore trains, logs and checkpoints step max_steps + 1 whenever max_steps is not a whole number of epochs
    (tiny_ci: 3 steps of a 4-step epoch), and otherwise logs a 0-step train summary over the real one. No callback
    event between the restore and that step can cancel it (`should_training_stop` is read after the step), so this
    raises instead, at the end of `on_train_begin`: by then the trainer has loaded the checkpoint's weights (after
    `accelerator.prepare` under DeepSpeed/FSDP too) and computed `state.max_steps` its own way, so the model is the
    last step's and the caller only has to save it. Register it last, so every other callback's `on_train_begin`
    (ProbeCallback reading back its lines, ...) has run. A fresh run (step 0) is never stopped.
    """

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.global_step > 0 and state.global_step >= state.max_steps:
            raise AlreadyTrained(state.global_step, state.max_steps)


class PlotCallback(TrainerCallback):
    """Redraw the training-curve PNG at every checkpoint and at the end, so a killed run still has its plot."""

    def __init__(self, run_dir: str | Path, mode: str) -> None:
        self.run_dir = Path(run_dir)
        self.mode = mode

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.is_world_process_zero:
            plot_metrics(self.run_dir, self.mode)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.is_world_process_zero:
            plot_metrics(self.run_dir, self.mode)


def plot_metrics(run_dir: str | Path, mode: str) -> Path | None:
    """Draw RUN/training_curves.png from RUN/metrics.jsonl (four panels, see PLOT_KEYS); None if nothing logged."""
    metrics = read_metrics(run_dir)
    if not metrics:
        return None
    import matplotlib

    matplotlib.use("Agg")  # no display on training machines
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    for ax, (key, title) in zip(axes.flat, PLOT_KEYS[mode], strict=True):
        points = [(m["step"], m[key]) for m in metrics if m.get(key) is not None]
        ax.set_title(title)
        ax.set_xlabel("step")
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", markersize=3)
        else:
            ax.text(0.5, 0.5, "not logged", ha="center", va="center", transform=ax.transAxes)
        ax.grid(alpha=0.3)
    fig.suptitle(f"{mode.upper()} run: {Path(run_dir).resolve().name}")
    fig.tight_layout()
    out = Path(run_dir) / PLOT_FILE
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out

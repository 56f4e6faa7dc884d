"""A held-out learning curve during training: greedy accuracy on a fixed probe set every few optimizer steps.

`ProbeCallback` evaluates the policy being trained (the trainer's own model, no copy) on the first `n` held-out
samples with the binary reward, under greedy decoding, and appends one line per probe to RUN/probe.jsonl:

    {"step": 6, "train_minutes": 2.41, "accuracy": 31.25, "format_rate": 93.75, "n": 48, "probe_seconds": 38.0}

`train_minutes` is the wall-clock time of training alone since the run began: the probes' own time is taken out,
so curves of runs that probe at different rates (or an SFT run against a GRPO run) share one time axis. With
`stop_after_minutes`, training stops once that clock reaches it: a compute budget that probing does not eat into.
Both trainers take it (GRPO and SFT), which is what `benchmarks/bench_rl_vs_sft.py` plots.

Example (a recipe's `probe:` mapping; `data` defaults to the training data folder, whose test.jsonl is read):

    probe: {every: 4, n: 48, max_new_tokens: 96, batch_size: 16, stop_after_minutes: null}

    >>> accuracy_per_minute([{"train_minutes": 0.0, "accuracy": 10.0}, {"train_minutes": 4.0, "accuracy": 22.0}])
    3.0
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from tooln1.prompt import DEFAULT_TEMPLATE, PromptTemplate
from tooln1.types import Sample

logger = logging.getLogger(__name__)

PROBE_FILE = "probe.jsonl"


def read_probes(run_dir: str | Path) -> list[dict[str, Any]]:
    path = Path(run_dir) / PROBE_FILE
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def accuracy_per_minute(probes: Sequence[dict[str, Any]]) -> float | None:
    """Held-out points gained per training minute, first probe to last; None with fewer than two probes."""
    if len(probes) < 2 or probes[-1]["train_minutes"] <= probes[0]["train_minutes"]:
        return None
    gain = probes[-1]["accuracy"] - probes[0]["accuracy"]
    return round(gain / (probes[-1]["train_minutes"] - probes[0]["train_minutes"]), 3)


class ProbeCallback(TrainerCallback):
    """Greedy held-out accuracy of the live policy at step 0, every `every` steps and at the end of training."""

    def __init__(
        self,
        run_dir: str | Path,
        samples: Sequence[Sample],
        tokenizer: Any,
        every: int,
        max_new_tokens: int = 96,
        batch_size: int = 16,
        template: PromptTemplate = DEFAULT_TEMPLATE,
        stop_after_minutes: float | None = None,
        stop: Sequence[str] = (),
    ) -> None:
        if every < 1:
            raise ValueError(f"probe.every must be >= 1, got {every}")
        self.path = Path(run_dir) / PROBE_FILE
        self.samples, self.tokenizer, self.every, self.template = list(samples), tokenizer, every, template
        self.max_new_tokens, self.batch_size, self.stop_after_minutes = max_new_tokens, batch_size, stop_after_minutes
        self.stop = tuple(stop)  # where the rollouts stop (empty: the backend's default)
        self._began: float | None = None
        self._probe_seconds = 0.0  # time spent probing, taken out of train_minutes
        self._offset_minutes = 0.0  # a resumed run continues the time axis of the lines it keeps
        self._last_step = -1

    def _train_minutes(self) -> float:
        elapsed = time.perf_counter() - (self._began or time.perf_counter()) - self._probe_seconds
        return self._offset_minutes + elapsed / 60

    def probe(self, model: Any, step: int) -> dict[str, Any]:
        """Evaluate now, append the line to probe.jsonl and return it."""
        from tooln1.eval.backends import GenSettings, HFBackend
        from tooln1.eval.heldout import summarize_rewards

        started = time.perf_counter()
        minutes = self._train_minutes()
        settings = GenSettings(max_new_tokens=self.max_new_tokens, batch_size=self.batch_size, stop=self.stop)
        backend = HFBackend.from_loaded(model, self.tokenizer, settings, self.template)
        was_training = model.training
        model.eval()
        try:
            texts = dict(backend.generate(self.samples))
        finally:
            model.train(was_training)
        summary = summarize_rewards([texts[i] for i in range(len(self.samples))], [s.gold for s in self.samples])
        seconds = time.perf_counter() - started
        self._probe_seconds += seconds
        line = {"step": step, "train_minutes": round(minutes, 3), "accuracy": summary["accuracy"],
                "format_rate": summary.get("format_rate"), "n": summary["n"], "probe_seconds": round(seconds, 1)}  # fmt: skip
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")
        logger.info("probe at step %d (%.1f train min): %.1f %% of %d", step, minutes, line["accuracy"], line["n"])
        self._last_step = step
        return line

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        self._began = time.perf_counter()
        # A resumed run has probed its earlier steps already; drop lines past the checkpoint it resumes from.
        kept = [p for p in read_probes(self.path.parent) if p["step"] <= state.global_step]
        self.path.write_text("".join(json.dumps(p) + "\n" for p in kept), encoding="utf-8")
        if kept:
            self._offset_minutes, self._last_step = kept[-1]["train_minutes"], kept[-1]["step"]
        if state.is_world_process_zero and not kept and model is not None:
            self.probe(model, state.global_step)

    def on_step_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if state.is_world_process_zero and model is not None and state.global_step % self.every == 0:
            self.probe(model, state.global_step)
        if self.stop_after_minutes is not None and self._train_minutes() >= self.stop_after_minutes:
            control.should_training_stop = True  # a training-time budget: equal compute for runs that probe

    def on_train_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if state.is_world_process_zero and model is not None and self._last_step != state.global_step:
            self.probe(model, state.global_step)

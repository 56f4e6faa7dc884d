"""The demo's live progress line: stage, step, reward and ETA, fed by a trainer callback and an eval backend wrapper.

Example of what it shows while GRPO runs:

    [5/8] grpo  step 7/20  reward 0.41  stage ETA 6m10s  elapsed 9m02s

It is a `rich` live status line on a terminal; elsewhere (CI logs, `make demo > log`) the same line is logged at
most every `LOG_EVERY_S` seconds and at the end of each stage, so a log file stays readable.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text
from transformers import TrainerCallback

from tooln1.types import Sample

logger = logging.getLogger(__name__)
LOG_EVERY_S = 30.0


def fmt_seconds(seconds: float | None) -> str:
    """`125.0` -> `"2m05s"`; None -> `"?"`."""
    if seconds is None:
        return "?"
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}m{s:02d}s" if m else f"{s}s"


class Display:
    """One status line, redrawn in place on a terminal. Use as a context manager around the whole demo."""

    def __init__(self, n_stages: int, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.n_stages = n_stages
        self.start = time.monotonic()
        self.stage, self.index = "", 0
        self.stage_start = self.start
        self.detail = ""
        self.last_logged = float("-inf")
        self.live = Live(Text(""), console=self.console, refresh_per_second=2, transient=True)

    def __enter__(self) -> Display:
        if self.console.is_terminal:
            self.live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.console.is_terminal:
            self.live.__exit__(*exc)

    def begin(self, index: int, stage: str, what: str) -> None:
        self.index, self.stage, self.detail = index, stage, ""
        self.stage_start = time.monotonic()
        self.console.print(f"[bold][{index}/{self.n_stages}] {stage}[/bold]: {what}")

    def update(self, done: int, total: int, unit: str, extra: str = "") -> None:
        """Progress inside the stage; the stage ETA extrapolates the time per unit so far."""
        spent = time.monotonic() - self.stage_start
        eta = spent / done * (total - done) if done else None
        self.detail = f"{unit} {done}/{total}  {extra}  stage ETA {fmt_seconds(eta)}".replace("   ", "  ")
        line = f"[{self.index}/{self.n_stages}] {self.stage}  {self.detail}  elapsed {fmt_seconds(self.elapsed())}"
        if self.console.is_terminal:
            self.live.update(Text(line))
        elif done >= total or time.monotonic() - self.last_logged >= LOG_EVERY_S:
            self.last_logged = time.monotonic()
            logger.info(line)

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def note(self, message: str) -> None:
        self.console.print(message)


class TrainProgress(TrainerCallback):
    """Feeds the display with the optimizer step and the latest logged reward (GRPO) or loss (SFT)."""

    def __init__(self, display: Display) -> None:
        self.display = display
        self.last = ""

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None, **kw: Any) -> None:
        logs = logs or {}
        if "reward" in logs:
            self.last = f"reward {logs['reward']:.2f}"
        elif "loss" in logs:
            self.last = f"loss {logs['loss']:.3f}"
        self.display.update(state.global_step, state.max_steps, "step", self.last)

    def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        self.display.update(state.global_step, state.max_steps, "step", self.last)


class CountingBackend:
    """Wraps an eval backend so each finished completion advances the display."""

    def __init__(self, inner: Any, display: Display, total: int) -> None:
        self.inner, self.display, self.total = inner, display, total
        self.name = inner.name

    def generate(self, samples: Sequence[Sample]) -> Iterator[tuple[int, str]]:
        done = self.total - len(samples)  # a resumed eval starts part-way
        for pair in self.inner.generate(samples):
            done += 1
            self.display.update(done, self.total, "item")
            yield pair

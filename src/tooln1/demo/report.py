"""The demo's report: RUN/report.md (table, curves, sample completions) and RUN/report.json (the same numbers).

report.json, accuracies as fractions (`rl_start` is the model GRPO starts from: after the SFT warm-up, or the
untrained model with --no-sft), so each stage's own contribution can be read off:

    {"heldout": {"n": 150, "before": 0.0, "rl_start": 0.10, "after": 0.36},
     "bfcl_subset": {"n": 64, "before": 0.0, "after": 0.22},
     "train": {"steps": 20, "prompts_per_step": 4, "first5_reward": 0.18, "last5_reward": 0.41,
               "rl_minutes": 8.9, "heldout_points_per_rl_minute": 2.9},
     "sft_warmup": {"steps": 10}, "minutes": 23.4, "stage_seconds": {...}}

Example:
    >>> mean_or_none([0.5, 1.0])
    0.75
"""

from __future__ import annotations

import json
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

REASONS_SHOWN = 5


def mean_or_none(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _frac(summary: dict[str, Any] | None, key: str = "accuracy") -> float | None:
    """A percentage from an eval summary as a fraction (the report.json convention)."""
    if not summary or summary.get(key) is None:
        return None
    return round(summary[key] / 100, 4)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def _stage_gain(after: float | None, before: float | None) -> str:
    return "—" if after is None or before is None else f"{100 * (after - before):+.1f}"


def build_numbers(state: dict[str, Any]) -> dict[str, Any]:
    """report.json's content from the demo state."""
    done = state["done"]
    held = {k: done.get(f"eval-{k}", {}).get("heldout") for k in ("base", "sft", "final")}
    bfcl = {k: done.get(f"eval-{k}", {}).get("bfcl") for k in ("base", "final")}
    grpo = done.get("grpo", {})
    rewards = grpo.get("rewards", [])
    sft = done.get("sft", {})
    start = held["base"] if sft.get("skipped") else held["sft"]  # with --no-sft, RL starts from the base model
    rl_start, after = _frac(start), _frac(held["final"])
    rl_minutes = round(grpo["seconds"] / 60, 2) if "seconds" in grpo else None
    rate = None
    if rl_start is not None and after is not None and rl_minutes:
        rate = round(100 * (after - rl_start) / rl_minutes, 2)
    return {
        "heldout": {"n": (held["base"] or {}).get("n"), "before": _frac(held["base"]), "rl_start": rl_start,
                    "after": after},
        "heldout_format_rate": {"before": _frac(held["base"], "format_rate"), "rl_start": _frac(start, "format_rate"),
                                "after": _frac(held["final"], "format_rate")},
        "bfcl_subset": {"n": (bfcl["base"] or {}).get("n"), "before": _frac(bfcl["base"]),
                        "after": _frac(bfcl["final"])},
        "train": {"steps": len(rewards), "prompts_per_step": grpo.get("prompts_per_step"),
                  "first5_reward": mean_or_none(rewards[:5]), "last5_reward": mean_or_none(rewards[-5:]),
                  "rl_minutes": rl_minutes, "heldout_points_per_rl_minute": rate},
        "sft_warmup": {"skipped": True} if sft.get("skipped") else {"steps": sft.get("steps")},
        "minutes": round(state["elapsed_s"] / 60, 2),
        "stage_seconds": {k: v.get("seconds") for k, v in done.items() if "seconds" in v},
    }  # fmt: skip


def _rows(numbers: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(stage, held-out accuracy, format rate, BFCL subset, held-out points this stage added) per table row."""
    h, f, b = numbers["heldout"], numbers["heldout_format_rate"], numbers["bfcl_subset"]
    rows = [("untrained", _pct(h["before"]), _pct(f["before"]), _pct(b["before"]), "—")]
    if not numbers["sft_warmup"].get("skipped"):
        rows.append(("after SFT warm-up (RL start)", _pct(h["rl_start"]), _pct(f["rl_start"]), "—",
                     _stage_gain(h["rl_start"], h["before"])))  # fmt: skip
    rows.append(("after GRPO", _pct(h["after"]), _pct(f["after"]), _pct(b["after"]),
                 _stage_gain(h["after"], h["rl_start"])))  # fmt: skip
    return rows


def _headers(numbers: dict[str, Any]) -> list[str]:
    h, b = numbers["heldout"], numbers["bfcl_subset"]
    return ["model", f"held-out accuracy (n={h['n']})", "held-out format rate", f"BFCL subset (n={b['n']})",
            "held-out points added by the stage"]  # fmt: skip


def results_table(numbers: dict[str, Any]) -> Table:
    """The per-stage table printed at the end of the demo."""
    table = Table(title="Tool-N1 demo: what each stage adds")
    for k, header in enumerate(_headers(numbers)):
        table.add_column(header, justify="left" if k == 0 else "right")
    for row in _rows(numbers):
        table.add_row(*row)
    return table


def _markdown_table(numbers: dict[str, Any]) -> str:
    lines = ["| " + " | ".join(_headers(numbers)) + " |", "|---|---:|---:|---:|---:|"]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(numbers)]
    return "\n".join(lines)


def _samples(run: Path, k: int = 3) -> str:
    """Side-by-side completions before and after training for the first k held-out items that changed verdict."""
    def rows(stage: str) -> dict[str, dict[str, Any]]:
        path = run / "eval" / stage / "heldout" / "results.jsonl"
        return {r["id"]: r for r in map(json.loads, path.read_text().splitlines())} if path.is_file() else {}

    before, after = rows("base"), rows("final")
    tasks = {}
    data = json.loads((run / "state.json").read_text())["done"]["data"]["data"]
    for line in (Path(data) / "test.jsonl").read_text().splitlines():
        s = json.loads(line)
        tasks[s["id"]] = s
    ids = [i for i in after if i in before and after[i]["correct"] and not before[i]["correct"]][:k]
    out = []
    for i in ids:
        t = tasks[i]
        out.append(f"### {i}\n\n**User:** {t['messages'][-1]['content']}\n\n**Gold:** `{json.dumps(t['gold'])}`\n\n"
                   f"**Before** ({before[i]['error']}):\n\n```\n{before[i]['completion'].strip()[:600]}\n```\n\n"
                   f"**After** (correct):\n\n```\n{after[i]['completion'].strip()[:600]}\n```\n")  # fmt: skip
    return "\n".join(out) or "(no held-out item went from wrong to right)\n"


def _reasons(state: dict[str, Any], stage: str) -> str:
    held = state["done"].get(f"eval-{stage}", {}).get("heldout") or {}
    rates = sorted(((v, k[7:]) for k, v in held.items() if k.startswith("reason/") and v), reverse=True)
    return ", ".join(f"`{code}` {rate:.1f} %" for rate, code in rates[:REASONS_SHOWN]) or "—"


def write_report(run: Path, state: dict[str, Any]) -> dict[str, Any]:
    """Write report.md and report.json into `run`, print the table, and return the numbers."""
    numbers = build_numbers(state)
    (run / "report.json").write_text(json.dumps(numbers, indent=2) + "\n")
    curves = run / "grpo" / "training_curves.png"
    if curves.is_file():
        shutil.copyfile(curves, run / "grpo_training_curves.png")
    sft_curves = run / "sft" / "training_curves.png"
    if sft_curves.is_file():
        shutil.copyfile(sft_curves, run / "sft_training_curves.png")
    t = numbers["train"]
    first, last = t["first5_reward"], t["last5_reward"]
    trend = "—" if first is None or last is None else f"{first:.3f} → {last:.3f}"
    rate = t["heldout_points_per_rl_minute"]
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    md = [
        f"# Tool-N1 demo ({date})\n",
        f"Model: `{state['done']['model']['model']}`. Data: `{state['done']['data']['data']}`. "
        f"Whole demo: {numbers['minutes']:.1f} minutes.\n",
        _markdown_table(numbers) + "\n",
        f"GRPO: {t['steps']} logged steps of {t['prompts_per_step']} prompts; mean reward over the first 5 → "
        f"last 5 steps: {trend}; {t['rl_minutes']} minutes of RL, "
        f"{'—' if rate is None else f'{rate:+.2f}'} held-out points per minute of RL.\n",
        f"Held-out reasons before: {_reasons(state, 'base')}. After: {_reasons(state, 'final')}.\n",
        "Seconds per stage: " + ", ".join(f"{k} {v}" for k, v in numbers["stage_seconds"].items()) + "\n",
        "## Training curves (GRPO)\n\n![GRPO curves](grpo_training_curves.png)\n",
        "## Sample completions, before and after\n",
        _samples(run),
    ]
    (run / "report.md").write_text("\n".join(md))
    Console(file=sys.stdout).print(results_table(numbers))
    return {"report": str(run / "report.md")}

"""The demo's report: RUN/report.md (table, curves, sample completions) and RUN/report.json (the same numbers).

report.json, accuracies as fractions:

    {"heldout": {"n": 150, "before": 0.0, "after_sft": 0.61, "after": 0.72},
     "bfcl_subset": {"n": 32, "before": 0.0, "after": 0.09},
     "train": {"steps": 20, "first5_reward": 0.38, "last5_reward": 0.55},
     "sft_warmup": {"steps": 12, "first_loss": 1.9, "last_loss": 0.2},
     "minutes": 21.4, "stage_seconds": {...}}

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


def build_numbers(state: dict[str, Any]) -> dict[str, Any]:
    """report.json's content from the demo state."""
    done = state["done"]
    held = {k: done.get(f"eval-{k}", {}).get("heldout") for k in ("base", "sft", "final")}
    bfcl = {k: done.get(f"eval-{k}", {}).get("bfcl") for k in ("base", "final")}
    rewards = done.get("grpo", {}).get("rewards", [])
    sft = done.get("sft", {})
    return {
        "heldout": {"n": (held["base"] or {}).get("n"), "before": _frac(held["base"]),
                    "after_sft": _frac(held["sft"]), "after": _frac(held["final"])},
        "heldout_format_rate": {"before": _frac(held["base"], "format_rate"),
                                "after_sft": _frac(held["sft"], "format_rate"),
                                "after": _frac(held["final"], "format_rate")},
        "bfcl_subset": {"n": (bfcl["base"] or {}).get("n"), "before": _frac(bfcl["base"]),
                        "after": _frac(bfcl["final"])},
        "train": {"steps": len(rewards), "first5_reward": mean_or_none(rewards[:5]),
                  "last5_reward": mean_or_none(rewards[-5:])},
        "sft_warmup": {"skipped": True} if sft.get("skipped") else {"steps": sft.get("steps")},
        "minutes": round(state["elapsed_s"] / 60, 2),
        "stage_seconds": {k: v.get("seconds") for k, v in done.items() if "seconds" in v},
    }  # fmt: skip


def results_table(numbers: dict[str, Any]) -> Table:
    """The before/after table printed at the end of the demo."""
    h, f, b = numbers["heldout"], numbers["heldout_format_rate"], numbers["bfcl_subset"]
    table = Table(title="Tool-N1 demo: before / after")
    table.add_column("model")
    table.add_column(f"held-out accuracy (n={h['n']})", justify="right")
    table.add_column("held-out format rate", justify="right")
    table.add_column(f"BFCL subset (n={b['n']})", justify="right")
    table.add_row("untrained", _pct(h["before"]), _pct(f["before"]), _pct(b["before"]))
    if h["after_sft"] is not None:
        table.add_row("after SFT warm-up", _pct(h["after_sft"]), _pct(f["after_sft"]), "—")
    table.add_row("after GRPO", _pct(h["after"]), _pct(f["after"]), _pct(b["after"]))
    return table


def _markdown_table(numbers: dict[str, Any]) -> str:
    h, f, b = numbers["heldout"], numbers["heldout_format_rate"], numbers["bfcl_subset"]
    lines = [f"| model | held-out accuracy (n={h['n']}) | held-out format rate | BFCL subset (n={b['n']}) |",
             "|---|---:|---:|---:|",
             f"| untrained | {_pct(h['before'])} | {_pct(f['before'])} | {_pct(b['before'])} |"]  # fmt: skip
    if h["after_sft"] is not None:
        lines.append(f"| after SFT warm-up | {_pct(h['after_sft'])} | {_pct(f['after_sft'])} | — |")
    lines.append(f"| after GRPO | {_pct(h['after'])} | {_pct(f['after'])} | {_pct(b['after'])} |")
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
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    md = [
        f"# Tool-N1 demo ({date})\n",
        f"Model: `{state['done']['model']['model']}`. Data: `{state['done']['data']['data']}`. "
        f"Whole demo: {numbers['minutes']:.1f} minutes.\n",
        _markdown_table(numbers) + "\n",
        f"GRPO: {t['steps']} logged steps; mean reward over the first 5 → last 5: {trend}.\n",
        f"Held-out reasons before: {_reasons(state, 'base')}. After: {_reasons(state, 'final')}.\n",
        "Seconds per stage: " + ", ".join(f"{k} {v}" for k, v in numbers["stage_seconds"].items()) + "\n",
        "## Training curves (GRPO)\n\n![GRPO curves](grpo_training_curves.png)\n",
        "## Sample completions, before and after\n",
        _samples(run),
    ]
    (run / "report.md").write_text("\n".join(md))
    Console(file=sys.stdout).print(results_table(numbers))
    return {"report": str(run / "report.md")}

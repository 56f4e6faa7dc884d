"""Reports: per-category tables (markdown and JSON), the paper's aggregates, and the comparison document.

BFCL aggregates, as the paper computes its Table 2 columns (method §5.2):
- Simple = unweighted mean of simple_python, simple_java, simple_javascript (the BFCL v3/v4 convention; whether the
  paper's "Simple" column averaged the three languages is not stated, method §5.2 marks it UNVERIFIED);
- Non-live = unweighted mean of Simple, multiple, parallel, parallel_multiple;
- Live = sample-weighted mean of live_simple, live_multiple, live_parallel, live_parallel_multiple;
- Overall = (Non-live + Live) / 2 (the paper's formula, not BFCL v4's weighted overall).
An aggregate is given only when every category it needs was run. Irrelevance, live_irrelevance and live_relevance
are reported on their own, as the paper does not report them.

Example:
    >>> rows = [{"category": "multiple", "correct": True}, {"category": "multiple", "correct": False}]
    >>> category_table(rows)
    {'multiple': {'n': 2, 'correct': 1, 'accuracy': 50.0}}

    $ tooln1 eval report runs/eval/bfcl/* runs/eval/apibank/* --out docs/results.md
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SUMMARY_JSON = "summary.json"
SUMMARY_MD = "summary.md"

TABLE2_COLUMNS = (
    ("NL-S", "simple"), ("NL-M", "multiple"), ("NL-P", "parallel"), ("NL-PM", "parallel_multiple"),
    ("L-S", "live_simple"), ("L-M", "live_multiple"), ("L-P", "live_parallel"), ("L-PM", "live_parallel_multiple"),
    ("Non-live", "non_live"), ("Live", "live"), ("Overall", "overall"),
)  # fmt: skip
# Paper Table 2 (method §6.1): BFCL accuracy %, leaderboard snapshot of 2025-04-13, columns as TABLE2_COLUMNS.
PAPER_TABLE2 = {
    "GPT-4o": (79.42, 95.50, 94.00, 83.50, 84.88, 79.77, 87.50, 75.00, 88.10, 79.83, 83.97),
    "GPT-4o-mini": (80.08, 90.50, 89.50, 87.00, 81.40, 76.73, 93.75, 79.17, 86.77, 76.50, 81.64),
    "GPT-3.5-Turbo-0125": (77.92, 93.50, 67.00, 53.00, 80.62, 78.63, 75.00, 58.33, 72.85, 68.55, 70.70),
    "Gemini-2.0-Flash-001": (74.92, 89.50, 86.50, 87.00, 75.58, 73.12, 81.25, 83.33, 84.48, 81.39, 82.94),
    "DeepSeek-R1": (76.42, 94.50, 90.05, 88.00, 84.11, 79.87, 87.50, 70.83, 87.35, 74.41, 80.88),
    "Llama3.1-70B-Inst": (77.92, 96.00, 94.50, 91.50, 78.29, 76.16, 87.50, 66.67, 89.98, 62.24, 76.11),
    "Llama3.1-8B-Inst": (72.83, 93.50, 87.00, 83.50, 74.03, 73.31, 56.25, 54.17, 84.21, 61.08, 72.65),
    "Qwen2.5-7B-Inst": (75.33, 94.50, 91.50, 84.50, 76.74, 74.93, 62.50, 70.83, 86.46, 67.44, 76.95),
    "xLAM-2-70b-fc-r (FC)": (78.25, 94.50, 92.00, 89.00, 77.13, 71.13, 68.75, 58.33, 88.44, 72.95, 80.70),
    "ToolACE-8B (FC)": (76.67, 93.50, 90.50, 89.50, 73.26, 76.73, 81.25, 70.83, 87.54, 78.59, 82.57),
    "Hammer2.1-7B (FC)": (78.08, 95.00, 93.50, 88.00, 76.74, 77.40, 81.25, 70.83, 88.65, 75.11, 81.88),
    "Tool-N1-7B": (77.00, 95.00, 94.50, 90.50, 82.17, 80.44, 62.50, 70.83, 89.25, 80.38, 84.82),
    "Tool-N1-14B": (80.58, 96.00, 93.50, 92.00, 84.10, 81.10, 81.25, 66.67, 90.52, 81.42, 85.97),
}
# Paper Fig. 3 API-Bank accuracy % (method §6.2; levels not stated by the paper).
PAPER_APIBANK = {
    "LLaMA-3.1-Base-8B (as labelled)": 60.41, "GPT-4o-mini": 73.10, "GPT-4o": 77.16,
    "Tool-N1-7B": 81.28, "Tool-N1-14B": 82.19,
}  # fmt: skip
# Paper Fig. 3 ACEBench "Normal" accuracy % (method §6.2), over the Atom and Single-turn sub-categories (§5.3).
PAPER_ACEBENCH = {
    "LLaMA-3.1-Base-8B (as labelled)": 50.63, "GPT-4o-mini": 81.63, "GPT-4o": 87.00,
    "Tool-N1-7B": 82.34, "Tool-N1-14B": 86.00,
}  # fmt: skip
# ACEBench's summary rows (its evaluation_helper.generate_result_csv): unweighted means of category accuracies.
ACE_ATOM = ("normal_atom_bool", "normal_atom_enum", "normal_atom_number", "normal_atom_list",
            "normal_atom_object_deep", "normal_atom_object_short")  # fmt: skip
ACE_SINGLE_TURN = ("normal_single_turn_single_function", "normal_single_turn_parallel_function")
ACE_MULTI_TURN = ("normal_multi_turn_user_switch", "normal_multi_turn_user_adjust")
ACE_NORMAL = ACE_SINGLE_TURN + ACE_MULTI_TURN + ("normal_similar_api", "normal_preference") + ACE_ATOM
ACE_SPECIAL = ("special_incomplete", "special_error_param", "special_irrelevant")
ACE_ROWS = (
    ("Normal (paper: Atom + Single-turn)", "normal_paper", ACE_ATOM + ACE_SINGLE_TURN),
    ("atom", "atom", ACE_ATOM), ("single_turn", "single_turn", ACE_SINGLE_TURN),
    ("multi_turn", "multi_turn", ACE_MULTI_TURN), ("normal_summary", "normal_summary", ACE_NORMAL),
    ("special_summary", "special_summary", ACE_SPECIAL),
)  # fmt: skip
SIMPLE = ("simple_python", "simple_java", "simple_javascript")
LIVE_AST = ("live_simple", "live_multiple", "live_parallel", "live_parallel_multiple")
RELEVANCE = ("irrelevance", "live_irrelevance", "live_relevance")
# BFCL multi-turn (not in the paper): its four categories and their unweighted mean, BFCL's own "Multi Turn" column.
MULTI_TURN_COLUMNS = (("MT base", "multi_turn_base"), ("MT miss func", "multi_turn_miss_func"),
                      ("MT miss param", "multi_turn_miss_param"), ("MT long ctx", "multi_turn_long_context"),
                      ("Multi-turn", "multi_turn"))  # fmt: skip


def _pct(correct: int, n: int) -> float:
    return round(100.0 * correct / n, 2)


def category_table(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """{category: {n, correct, accuracy %}} over result rows, in order of first appearance."""
    table: dict[str, dict[str, Any]] = {}
    for row in rows:
        t = table.setdefault(row["category"], {"n": 0, "correct": 0})
        t["n"] += 1
        t["correct"] += bool(row["correct"])
    for t in table.values():
        t["accuracy"] = _pct(t["correct"], t["n"])
    return table


def bfcl_aggregates(table: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """The paper's Simple / Non-live / Live / Overall (module docstring); None where a needed category is missing.

    Computed from the counts, rounded only at the end (the paper's 84.82 for Tool-N1-7B needs the unrounded Live).
    """

    def mean(values: list[float | None]) -> float | None:
        return None if any(v is None for v in values) else sum(values) / len(values)  # type: ignore[arg-type]

    acc = {cat: 100.0 * t["correct"] / t["n"] for cat, t in table.items()}
    simple = mean([acc.get(c) for c in SIMPLE])
    non_live = mean([simple, acc.get("multiple"), acc.get("parallel"), acc.get("parallel_multiple")])
    live = None
    if all(c in table for c in LIVE_AST):
        live = 100.0 * sum(table[c]["correct"] for c in LIVE_AST) / sum(table[c]["n"] for c in LIVE_AST)
    values = {"simple": simple, "non_live": non_live, "live": live, "overall": mean([non_live, live])}
    return {k: None if v is None else round(v, 2) for k, v in values.items()}


def acebench_aggregates(accuracy: dict[str, float]) -> dict[str, float | None]:
    """ACEBench's summary rows and the paper's Normal (unweighted means, ACE_ROWS); None where a category is missing.

    The paper's "Normal" is read as the unweighted mean of the 8 Atom and Single-turn categories, ACEBench's own
    way of averaging (the paper does not say how it averaged). ACEBench's overall "Summary" also needs the agent
    categories, which are not run, so it is not given.
    """
    out: dict[str, float | None] = {}
    for _, key, cats in ACE_ROWS:
        values = [accuracy[c] for c in cats if c in accuracy]
        out[key] = round(sum(values) / len(values), 2) if len(values) == len(cats) else None
    return out


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def table_markdown(table: dict[str, dict[str, Any]]) -> str:
    lines = ["| category | n | correct | accuracy % |", "|---|---:|---:|---:|"]
    lines += [f"| {cat} | {t['n']} | {t['correct']} | {_fmt(t['accuracy'])} |" for cat, t in table.items()]
    return "\n".join(lines)


def label(summary: dict[str, Any]) -> str:
    """How a measured row is labelled: model, backend, date, and the per-category limit if any."""
    limit = summary.get("limit")
    per_category = summary["benchmark"] in ("bfcl", "acebench")
    scope = "" if not limit else f", first {limit}/category" if per_category else f", first {limit}"
    return f"{summary['model']} ({summary['backend']}, {summary['date']}{scope})"


def table2_values(summary: dict[str, Any]) -> list[float | None]:
    """A BFCL summary in the paper's Table 2 columns."""
    acc = {cat: t["accuracy"] for cat, t in summary["categories"].items()}
    merged = {**acc, **summary["aggregates"]}
    return [merged.get(key) for _, key in TABLE2_COLUMNS]


def multi_turn_values(summary: dict[str, Any]) -> list[float | None]:
    """A BFCL summary in the multi-turn columns (None where not run; the mean only when all four were run)."""
    table = summary["categories"]
    values = [table[c]["accuracy"] if c in table else None for _, c in MULTI_TURN_COLUMNS[:-1]]
    if all(c in table for _, c in MULTI_TURN_COLUMNS[:-1]):
        mean = sum(100.0 * table[c]["correct"] / table[c]["n"] for _, c in MULTI_TURN_COLUMNS[:-1]) / 4
        return values + [round(mean, 2)]
    return values + [None]


def _multi_turn_rows(summaries: Sequence[dict[str, Any]]) -> list[str]:
    """The BFCL multi-turn table of the runs that have any multi-turn category (empty list if none)."""
    runs = [s for s in summaries if any(v is not None for v in multi_turn_values(s))]
    if not runs:
        return []
    out = ["", "BFCL multi-turn (not in the paper; BFCL's checker, accuracy %):", "",
           "| model | " + " | ".join(n for n, _ in MULTI_TURN_COLUMNS) + " |",
           "|---|" + "---:|" * len(MULTI_TURN_COLUMNS)]  # fmt: skip
    return out + [f"| {label(s)} | " + " | ".join(_fmt(v) for v in multi_turn_values(s)) + " |" for s in runs]


def summary_markdown(summary: dict[str, Any]) -> str:
    """The human-readable report of one run (also written as summary.md)."""
    parts = [f"## {summary['benchmark']}: {label(summary)}", "", table_markdown(summary["categories"])]
    if summary["benchmark"] == "bfcl":
        header = " | ".join(name for name, _ in TABLE2_COLUMNS)
        values = " | ".join(_fmt(v) for v in table2_values(summary))
        parts += ["", "Paper aggregates (method §5.2):", "", f"| {header} |", "|" + "---:|" * len(TABLE2_COLUMNS),
                  f"| {values} |"]  # fmt: skip
        parts += _multi_turn_rows([summary])
    if summary["benchmark"] == "acebench":
        parts += ["", "ACEBench's own accuracy per category (multi-turn: whole dialogues right, its end accuracy):",
                  "", "| category | accuracy % |", "|---|---:|"]  # fmt: skip
        parts += [f"| {cat} | {_fmt(v)} |" for cat, v in summary["acebench"].items()]
        parts += ["", "Summary rows (unweighted means of categories):", "", "| row | accuracy % |", "|---|---:|"]
        parts += [f"| {name} | {_fmt(summary['aggregates'].get(key))} |" for name, key, _ in ACE_ROWS]
    extra = {k: v for k, v in summary.get("rates", {}).items() if v}
    if extra:
        parts += ["", "Rates (%): " + ", ".join(f"{k} {v:.2f}" for k, v in extra.items())]
    if summary.get("accuracy") is not None:
        parts += ["", f"Accuracy over all {summary['n']} items: {summary['accuracy']:.2f} %"]
    return "\n".join(parts) + "\n"


def write_summary(out_dir: Path, summary: dict[str, Any]) -> str:
    """Write summary.json and summary.md into the run directory; return the markdown."""
    text = summary_markdown(summary)
    (out_dir / SUMMARY_JSON).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (out_dir / SUMMARY_MD).write_text(text, encoding="utf-8")
    return text


MAIN_BENCHMARKS = {"bfcl": "BFCL", "apibank-paper": "API-Bank", "acebench": "ACEBench"}


def _scope(summary: dict[str, Any]) -> str:
    """How one run of the main table was measured: protocol or item scope, and date."""
    if summary["benchmark"] == "apibank-paper":
        what = f"paper protocol, {summary['n']} items"
    elif summary.get("limit"):
        what = f"first {summary['limit']}/category"
    else:
        what = "all items"
    return f"{MAIN_BENCHMARKS[summary['benchmark']]} {what}, {summary['date']}"


def main_table(summaries: Sequence[dict[str, Any]]) -> list[str]:
    """The paper's headline numbers (Table 2 aggregates, Fig. 3) and ours, one row per model and backend."""
    out = ["| model | BFCL Non-live | BFCL Live | BFCL Overall | API-Bank | ACEBench Normal | measured as |",
           "|---|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    for name in dict.fromkeys([*PAPER_TABLE2, *PAPER_APIBANK, *PAPER_ACEBENCH]):
        bfcl = PAPER_TABLE2.get(name, (None,) * len(TABLE2_COLUMNS))[-3:]
        values = [*bfcl, PAPER_APIBANK.get(name), PAPER_ACEBENCH.get(name)]
        out.append(f"| {name} (paper) | " + " | ".join(_fmt(v) for v in values) + " | paper |")
    groups: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for s in summaries:
        if s["benchmark"] in MAIN_BENCHMARKS:
            groups.setdefault((s["model"], s["backend"]), {})[s["benchmark"]] = s
    for (model, backend), runs in groups.items():
        bfcl = runs.get("bfcl", {}).get("aggregates", {})
        api, ace = runs.get("apibank-paper", {}), runs.get("acebench", {}).get("aggregates", {})
        values = [bfcl.get("non_live"), bfcl.get("live"), bfcl.get("overall"), api.get("accuracy"),
                  ace.get("normal_paper")]  # fmt: skip
        how = "; ".join(_scope(r) for r in runs.values())
        out.append(f"| **{model} ({backend})** | " + " | ".join(_fmt(v) for v in values) + f" | {how} |")
    return out


def comparison_markdown(summaries: Sequence[dict[str, Any]]) -> str:
    """Paper numbers beside every measured run: the main table, then BFCL, API-Bank, ACEBench, held-out in detail."""
    out = ["## Main table (paper Table 2 and Fig. 3 beside our runs; accuracy %)", "", *main_table(summaries), ""]
    out += ["## BFCL (paper Table 2 beside our runs; accuracy %)", ""]
    out += ["| model | " + " | ".join(n for n, _ in TABLE2_COLUMNS) + " |", "|---|" + "---:|" * len(TABLE2_COLUMNS)]
    out += [f"| {name} (paper) | " + " | ".join(_fmt(v) for v in vals) + " |" for name, vals in PAPER_TABLE2.items()]
    bfcl = [s for s in summaries if s["benchmark"] == "bfcl"]
    out += [f"| **{label(s)}** | " + " | ".join(_fmt(v) for v in table2_values(s)) + " |" for s in bfcl]
    if bfcl:
        out += ["", "BFCL relevance detection (not in the paper; accuracy %):", "",
                "| model | " + " | ".join(RELEVANCE) + " |", "|---|" + "---:|" * len(RELEVANCE)]  # fmt: skip
        for s in bfcl:
            cats = s["categories"]
            values = " | ".join(_fmt(cats.get(c, {}).get("accuracy")) for c in RELEVANCE)
            out.append(f"| {label(s)} | {values} |")
        out += _multi_turn_rows(bfcl)
    out += ["", "## API-Bank (paper Fig. 3 beside our runs; accuracy %)", "",
            "| model | protocol | items | accuracy | n |", "|---|---|---|---:|---:|"]  # fmt: skip
    out += [f"| {name} (paper) | paper | Call mode, no multi-turn | {v:.2f} | – |"
            for name, v in PAPER_APIBANK.items()]  # fmt: skip
    for s in (s for s in summaries if s["benchmark"].startswith("apibank")):
        paper = s["benchmark"] == "apibank-paper"
        items = "level-1, single-turn" if paper else s["benchmark"].removeprefix("apibank-")
        out.append(f"| **{label(s)}** | {'paper' if paper else 'full'} | {items} | {_fmt(s['accuracy'])} | {s['n']} |")
    ace = [s for s in summaries if s["benchmark"] == "acebench"]
    if ace:
        out += ["", "## ACEBench (ACEBench's own evaluator; accuracy %)", "",
                "| model | " + " | ".join(name for name, _, _ in ACE_ROWS) + " |", "|---|" + "---:|" * len(ACE_ROWS)]
        out += [f"| {name} (paper) | {v:.2f} |" + " – |" * (len(ACE_ROWS) - 1) for name, v in PAPER_ACEBENCH.items()]
        for s in ace:
            values = " | ".join(_fmt(s["aggregates"].get(k)) for _, k, _ in ACE_ROWS)
            out.append(f"| **{label(s)}** | {values} |")
    held = [s for s in summaries if s["benchmark"] == "heldout"]
    if held:
        out += ["", "## Held-out split (binary reward; not in the paper)", "",
                "| model | accuracy % | format % | think % | n |", "|---|---:|---:|---:|---:|"]  # fmt: skip
        for s in held:
            r = s.get("rates", {})
            out.append(f"| {label(s)} | {_fmt(s['accuracy'])} | {_fmt(r.get('format_rate'))} | "
                       f"{_fmt(r.get('think_rate'))} | {s['n']} |")  # fmt: skip
    return "\n".join(out) + "\n"

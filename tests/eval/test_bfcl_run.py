"""CI run of `tooln1 eval bfcl --limit 4` over every category with the bundled model on the hf backend.

The base model is not trained for tool calls, so most verdicts are "no tool call"; what is checked is the whole
path: prompts rendered, generation, per-item results, bfcl-eval's verdicts, the summary, and a resume that does
not load the model again. Generation is kept to 16 new tokens: prompts are 300-1800 tokens long, and their
prefill is most of the cost (measured: 30-35 s for the 52 prompts on an idle 2-core machine, 2-4 times that
while other jobs share it).

Run: .venv/bin/pytest tests/eval/test_bfcl_run.py
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tooln1.cli import main
from tooln1.eval import backends, bfcl
from tooln1.eval.report import bfcl_aggregates
from tooln1.model import resolve_dtype


@pytest.mark.slow
def test_bfcl_limit_4_per_category_bundled_model_hf(tmp_path, monkeypatch, capsys):
    out = tmp_path / "bfcl"
    argv = ["eval", "bfcl", "--limit", "4", "--max-new-tokens", "16", "--out", str(out)]
    assert main(argv) == 0
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert Counter(r["category"] for r in rows) == {c: 4 for c in bfcl.CATEGORIES}
    for row in rows:
        verdict = bfcl.score(bfcl.case_for_id(row["id"]), row["completion"])
        assert (row["correct"], row["error"], row["calls"]) == (verdict.correct, verdict.error, verdict.calls)
        assert isinstance(row["completion"], str) and row["completion"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == "bundled" and summary["backend"] == "hf" and summary["limit"] == 4
    # the default dtype `fast`, recorded as what it resolved to on this CPU (tooln1.model.resolve_dtype)
    assert summary["config"]["dtype"] == resolve_dtype("fast", "cpu")
    assert summary["config"]["bfcl_eval"] == bfcl.BFCL_VERSION
    assert summary["aggregates"] == bfcl_aggregates(summary["categories"])
    assert all(v is not None for v in summary["aggregates"].values())
    printed = capsys.readouterr().out
    assert printed == (out / "summary.md").read_text() and "| live_relevance | 4 |" in printed

    def no_model(*args, **kwargs):
        raise AssertionError("a finished run must not load the model")

    monkeypatch.setattr(backends.HFBackend, "__init__", no_model)
    assert main(argv) == 0  # resumes: everything is done, the summary is rebuilt from results.jsonl
    assert json.loads((out / "summary.json").read_text())["categories"] == summary["categories"]

"""Real runs of `tooln1 eval acebench` and `tooln1 eval apibank --protocol paper` with the tiny random model.

The tiny model's outputs are noise; what is checked is the path: ACEBench items of every normal and special
category rendered and generated, ACEBench's verdict per item, its per-category accuracy and the summary rows, a
resume that loads no model; and the API-Bank item selection of each protocol on the real files.

Run: .venv/bin/pytest tests/eval/test_protocol_runs.py -q
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tooln1.cli import main
from tooln1.eval import acebench, apibank, backends
from tooln1.eval.report import acebench_aggregates


def test_acebench_limit_1_every_category_tiny_model(tmp_path: Path, tiny_model_dir: Path, acebench_root: str,
                                                     monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # fmt: skip
    out = tmp_path / "ace"
    argv = ["eval", "acebench", "--acebench-root", acebench_root, "--model", str(tiny_model_dir), "--limit", "1",
            "--max-new-tokens", "4", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(r["category"] for r in rows) == sorted(acebench.CATEGORIES)  # in the order they finished
    cases = {c.id: c for c in acebench.load_cases(acebench_root, ["all"], 1)}
    for row in rows:
        verdict = acebench.score(cases[row["id"]], row["completion"], acebench_root)
        assert (row["correct"], row["error"], row["calls"]) == (verdict.correct, verdict.error, verdict.calls)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["benchmark"] == "acebench" and summary["limit"] == 1 and summary["n"] == 15
    assert set(summary["acebench"]) == set(acebench.CATEGORIES)
    assert summary["aggregates"] == acebench_aggregates(summary["acebench"])
    assert summary["aggregates"]["normal_paper"] is not None
    printed = capsys.readouterr().out
    assert printed == (out / "summary.md").read_text() and "| Normal (paper: Atom + Single-turn) |" in printed

    def no_model(*args, **kwargs):
        raise AssertionError("a finished run must not load the model")

    monkeypatch.setattr(backends.HFBackend, "__init__", no_model)
    assert main(argv) == 0
    assert json.loads((out / "summary.json").read_text())["acebench"] == summary["acebench"]


def test_apibank_protocols_select_their_items(shared_data: Path) -> None:
    root = shared_data / "api-bank" / "test-data"
    level1, level2 = apibank.load_cases(root, 1), apibank.load_cases(root, 2)
    paper = apibank.paper_protocol(level1 + level2)
    assert (len(level1), len(level2), len(paper)) == (399, 135, 61)
    assert all(c.item.id.startswith("L1-") for c in paper)
    assert [sum(m["role"] == "user" for m in c.item.sample.messages) for c in paper] == [1] * 61
    # L1-001's history has five user turns (kept by the full protocol only)
    assert [c.item.id for c in paper[:3]] == ["L1-003", "L1-005", "L1-020"]
    assert "L1-001" not in {c.item.id for c in paper}


def test_apibank_paper_protocol_run_tiny_model(tmp_path: Path, tiny_model_dir: Path, shared_data: Path) -> None:
    out = tmp_path / "paper"
    data = str(shared_data / "api-bank")
    argv = ["eval", "apibank", "--data-dir", data, "--protocol", "paper", "--model", str(tiny_model_dir),
            "--limit", "2", "--max-new-tokens", "4", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["benchmark"], summary["protocol"], summary["n"]) == ("apibank-paper", "paper", 2)


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--protocol", "paper", "--level", "2"], "--protocol paper runs level 1 only"),
     (["--protocol", "full"], "--protocol full needs --level 1 or 2")],
)  # fmt: skip
def test_apibank_protocol_arguments(extra: list[str], message: str, shared_data: Path, capsys) -> None:
    assert main(["eval", "apibank", "--data-dir", str(shared_data / "api-bank"), *extra]) == 2
    assert message in capsys.readouterr().err

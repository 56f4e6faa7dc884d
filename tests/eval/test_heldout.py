"""`tooln1 eval heldout` on a tiny data dir: binary-reward accuracy, format rate, per-reason rates.

The data dir holds three hand-written samples in the `tooln1 data` layout (DIR/test.jsonl of Sample.to_json()),
e.g. a get_weather request whose gold is [get_weather(city="Paris")].

Run: .venv/bin/pytest tests/eval/test_heldout.py
"""

from __future__ import annotations

import json

import pytest

from tooln1.cli import main
from tooln1.eval import heldout
from tooln1.eval.runner import EvalItem
from tooln1.prompt import canonical_completion
from tooln1.types import Sample, ToolCall

WEATHER = {"name": "get_weather", "description": "Weather now", "parameters": {"city": {"type": "str"}}}
SAMPLES = [
    Sample("h0", "synth", [WEATHER], [{"role": "user", "content": "Weather in Paris?"}],
           [ToolCall("get_weather", {"city": "Paris"})]),
    Sample("h1", "synth", [WEATHER], [{"role": "user", "content": "Tell me a joke."}], []),
    Sample("h2", "xlam", [WEATHER], [{"role": "user", "content": "Weather in Rome and Oslo?"}],
           [ToolCall("get_weather", {"city": "Rome"}), ToolCall("get_weather", {"city": "Oslo"})]),
]  # fmt: skip


@pytest.fixture
def data_dir(make_data_dir):
    return make_data_dir(SAMPLES)


def test_heldout_cli_runs_a_model_and_reports_reward_rates(tmp_path, data_dir, tiny_model_dir, capsys):
    out = tmp_path / "run"
    argv = ["eval", "heldout", "--data", str(data_dir), "--model", str(tiny_model_dir), "--max-new-tokens", "8",
            "--dtype", "float32", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == ["h0", "h1", "h2"]
    for row in rows:
        sample = next(s for s in SAMPLES if s.id == row["id"])
        verdict = heldout.score(EvalItem(row["id"], "", sample), row["completion"])
        assert (row["correct"], row["error"]) == (verdict.correct, verdict.error)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n"] == 3 and set(summary["categories"]) == {"synth", "xlam"}
    assert summary["accuracy"] == round(100 * sum(r["correct"] for r in rows) / 3, 2)
    reasons = {k: v for k, v in summary["rates"].items() if k.startswith("reason/")}
    assert sum(reasons.values()) == pytest.approx(100.0)
    assert {"format_rate", "think_rate", "name_match_rate"} <= set(summary["rates"])
    assert "| synth | 2 |" in capsys.readouterr().out


def test_score_and_summary_are_the_binary_training_reward():
    gold = SAMPLES[0].gold
    good = canonical_completion(gold)
    no_think = '<tool_call>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_call>'
    item = EvalItem("h0", "synth", SAMPLES[0])
    assert heldout.score(item, good).correct and heldout.score(item, good).error is None
    verdict = heldout.score(item, no_think)
    assert (verdict.correct, verdict.error) == (False, "format:missing_think")
    summary = heldout.summarize_rewards([good, no_think], [gold, gold])
    assert (summary["accuracy"], summary["format_rate"], summary["reason/format:missing_think"]) == (50.0, 50.0, 50.0)


def test_limit_and_bad_data_dirs(tmp_path, data_dir, capsys):
    assert [it.id for it in heldout.load_items(data_dir, limit=2)] == ["h0", "h1"]
    assert main(["eval", "heldout", "--data", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err == f"tooln1: error: data dir not found: {tmp_path / 'nope'}\n"
    (tmp_path / "empty").mkdir()
    assert main(["eval", "heldout", "--data", str(tmp_path / "empty")]) == 2
    assert f"test split not found: {tmp_path / 'empty' / 'test.jsonl'}" in capsys.readouterr().err
    (data_dir / "test.jsonl").write_text('{"id": "x"}\n')
    assert main(["eval", "heldout", "--data", str(data_dir)]) == 2
    assert "test.jsonl:1: missing required column 'source'" in capsys.readouterr().err

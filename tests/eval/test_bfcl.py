"""BFCL: `tooln1 eval bfcl-score` agrees with bfcl-eval's checker called directly, and handles bad input.

The agreement cases (tests/fixtures/bfcl_agreement_*.jsonl) are hand-written: per line a BFCL id, a completion, the
calls it decodes to (`decoded`, null when nothing decodes), the verdict we expect and why, e.g.

    {"id": "parallel_0", "completion": "<think>ok</think><tool_call>[…]</tool_call>",
     "decoded": [{"spotify.play": {…}}, …], "expect": true, "why": "correct, other order"}

Run: .venv/bin/pytest tests/eval/test_bfcl.py
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tooln1.cli import main
from tooln1.eval import bfcl

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CASES = [json.loads(line) for f in sorted(FIXTURES.glob("bfcl_agreement_*.jsonl"))
         for line in f.read_text().splitlines()]  # fmt: skip


def direct_verdict(case: dict) -> bool:
    """bfcl-eval's own functions on the hand-written decoded calls, without going through tooln1.eval.bfcl."""
    b = bfcl.bfcl()
    category = b.utils.extract_test_category_from_id(case["id"])
    entry = next(e for e in b.utils.load_dataset_entry(category, include_prereq=False,
                 include_language_specific_hint=False) if e["id"] == case["id"])  # fmt: skip
    decoded = case["decoded"]
    if "relevance" in category:  # BFCL's rule: a call is a non-empty list of {name: {arguments}}
        has_call = decoded is not None and not b.utils.is_empty_output(decoded)
        return not has_call if "irrelevance" in category else has_call
    if decoded is None:
        return False
    answer = next(e["ground_truth"] for e in b.utils.load_ground_truth_entry(category) if e["id"] == case["id"])
    languages = {"simple_java": b.Language.JAVA, "simple_javascript": b.Language.JAVASCRIPT}
    lang = languages.get(category, b.Language.PYTHON)
    return b.ast_checker(copy.deepcopy(entry["function"]), copy.deepcopy(decoded), answer, lang, category,
                         bfcl.MODEL_NAME)["valid"]  # fmt: skip


def test_fixture_covers_every_category_with_enough_cases():
    assert len(CASES) >= 60
    assert {bfcl.category_of(c["id"]) for c in CASES} == set(bfcl.CATEGORIES)
    assert {c["expect"] for c in CASES} == {True, False}


def test_bfcl_score_agrees_with_the_checker_called_directly(tmp_path):
    outputs = tmp_path / "outputs.jsonl"
    outputs.write_text("".join(json.dumps({"id": c["id"], "completion": c["completion"]}) + "\n" for c in CASES))
    assert main(["eval", "bfcl-score", "--outputs", str(outputs), "--out", str(tmp_path / "score")]) == 0
    results = [json.loads(line) for line in (tmp_path / "score" / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in results] == [c["id"] for c in CASES]
    for case, result in zip(CASES, results, strict=True):
        direct = direct_verdict(case)
        assert (result["correct"], direct) == (case["expect"], case["expect"]), (case["id"], case["why"], result)
        assert (result["error"] is None) == result["correct"]
        decoded = None if result["calls"] is None else [{c["name"]: c["arguments"]} for c in result["calls"]]
        if "relevance" not in case["id"] or case["decoded"] is not None:
            assert decoded == case["decoded"], case["why"]


def test_bfcl_score_keeps_repeated_ids_in_order_and_summarises(tmp_path):
    good = '<think>t</think><tool_call>[{"name": "math.factorial", "arguments": {"number": 5}}]</tool_call>'
    bad = '<think>t</think><tool_call>[{"name": "math.factorial", "arguments": {"number": 6}}]</tool_call>'
    lines = [("simple_python_1", good), ("simple_python_1", bad), ("irrelevance_0", "no call"),
             ("simple_python_1", good)]  # fmt: skip
    outputs = tmp_path / "o.jsonl"
    outputs.write_text("".join(json.dumps({"id": i, "completion": c}) + "\n" for i, c in lines))
    assert main(["eval", "bfcl-score", "--outputs", str(outputs), "--out", str(tmp_path / "s")]) == 0
    results = [json.loads(line) for line in (tmp_path / "s" / "results.jsonl").read_text().splitlines()]
    assert [(r["id"], r["correct"]) for r in results] == [
        ("simple_python_1", True), ("simple_python_1", False), ("irrelevance_0", True), ("simple_python_1", True)]
    assert results[1]["error"].startswith("value_error")
    summary = json.loads((tmp_path / "s" / "summary.json").read_text())
    assert summary["categories"]["simple_python"] == {"n": 3, "correct": 2, "accuracy": 66.67}
    assert summary["categories"]["irrelevance"]["accuracy"] == 100.0
    assert summary["aggregates"]["non_live"] is None  # not every needed category was scored


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "simple_python_99999", "completion": "x"}', ":2: unknown BFCL id"),
        ('{"id": "multi_turn_base_0", "completion": "x"}', ":2: unknown BFCL id"),
        ('{"id": "simple_python_0", "completion": 5}', ":2: malformed line"),
        ("not json", ":2: malformed line"),
    ],
)
def test_bfcl_score_names_the_bad_line(tmp_path, capsys, line, message):
    outputs = tmp_path / "o.jsonl"
    outputs.write_text('{"id": "simple_python_0", "completion": "x"}\n' + line + "\n")
    assert main(["eval", "bfcl-score", "--outputs", str(outputs), "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_missing_outputs_file_and_unknown_category_exit_2(tmp_path, capsys):
    assert main(["eval", "bfcl-score", "--outputs", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path)]) == 2
    assert f"outputs file not found: {tmp_path / 'nope.jsonl'}" in capsys.readouterr().err
    assert main(["eval", "bfcl", "--categories", "simple_python,simple_rust", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "unknown BFCL category 'simple_rust'" in err and "live_parallel_multiple" in err
    assert not (tmp_path / "r").exists()  # rejected before any run directory or model


def test_categories_are_bfcl_single_turn_categories():
    from bfcl_eval.constants.category_mapping import SINGLE_TURN_CATEGORY

    assert bfcl.CATEGORIES == tuple(SINGLE_TURN_CATEGORY)
    assert bfcl.validate_categories(["live_simple", "all"])[:2] == ["live_simple", "simple_python"]
    assert len(bfcl.validate_categories(["all", "multiple"])) == len(bfcl.CATEGORIES)


def test_prompt_shows_bfcl_language_hints_but_checker_gets_plain_entries():
    case = bfcl.load_cases(["simple_java"], limit=1)[0]
    shown = case.item.sample.tools[0]
    assert shown["description"].endswith("Note that the provided function is in Java 8 SDK syntax.")
    assert {p["type"] for p in shown["parameters"]["properties"].values()} == {"string"}
    assert case.check_entry["function"][0]["parameters"]["properties"]["controller"]["type"] == "any"
    assert case.item.sample.messages == [{"role": "user", "content": case.check_entry["question"][0][0]["content"]}]


def test_entry_system_message_is_dropped_like_the_paper_handler():
    case = next(c for c in bfcl.load_cases(["live_simple"]) if c.check_entry["question"][0][0]["role"] == "system")
    roles = [m["role"] for m in case.item.sample.messages]
    assert "system" not in roles and roles[-1] == "user"


def test_decode_ast_uses_the_last_block_and_rejects_unusable_payloads():
    text = ('<tool_call>[{"name": "a", "arguments": {}}]</tool_call> then '
            '<tool_call>[{"name": "b", "arguments": {"x": 1}}]</tool_call>')  # fmt: skip
    assert bfcl.decode_ast(text) == [{"b": {"x": 1}}]
    for bad in ("plain text", "<tool_call>[{]</tool_call>", '<tool_call>[{"name": "a"}]</tool_call>'):
        with pytest.raises(ValueError):
            bfcl.decode_ast(bad)

"""API-Bank on the real level-1 and level-2 files: gold parsing, dialogue conversion, hand-checked verdicts.

Each verdict below was checked by hand against the item's dialogue and expected_output, e.g. item L1-019 expects
`QueryMeeting(..., attendees='['John Smith', 'Jane Doe']')`, so a JSON list ["John Smith", "Jane Doe"] is correct.

Run: .venv/bin/pytest tests/eval/test_apibank.py
"""

from __future__ import annotations

import json

import pytest

from tooln1.cli import main
from tooln1.eval import apibank
from tooln1.prompt import canonical_completion
from tooln1.types import ToolCall


@pytest.fixture(scope="module")
def cases(shared_data):
    root = shared_data / "api-bank" / "test-data"
    return {c.item.id: c for level in (1, 2) for c in apibank.load_cases(root, level)}


def test_counts_and_categories(cases):
    assert sum(k.startswith("L1-") for k in cases) == 399
    level2 = [c for k, c in cases.items() if k.startswith("L2-")]
    assert len(level2) == 135
    assert sum(c.item.category == "toolsearcher" for c in level2) == 45
    assert all(c.item.sample.tools[0]["name"] == "ToolSearcher" and len(c.item.sample.tools) == 1 for c in level2)


def test_gold_equals_the_structured_param_dict_of_the_raw_dialogues(cases, shared_data):
    samples = shared_data / "api-bank" / "lv1-lv2-samples"
    folders = {"L1": "level-1-given-desc", "L2": "level-2-toolsearcher"}
    for key, case in cases.items():
        turns = [json.loads(line) for line in (samples / folders[key[:2]] / case.file).read_text().splitlines()]
        api_turns = [t for t in turns if t["role"] == "API"]
        past_calls = sum(bool(m.get("tool_calls")) for m in case.item.sample.messages)
        raw = api_turns[past_calls]  # the gold is the API turn after the calls already in the history
        assert case.gold == ToolCall(raw["api_name"], {k: str(v) for k, v in raw["param_dict"].items()}), key


def test_dialogue_becomes_user_assistant_tool_turns(cases):
    msgs = cases["L1-100"].item.sample.messages
    assert [m["role"] for m in msgs] == ["user", "assistant", "user", "assistant", "tool", "assistant", "user",
                                         "assistant"]  # fmt: skip
    assert msgs[3] == {"role": "assistant", "content": "Thank you, let me authenticate the user...",
                       "tool_calls": [{"name": "GetUserToken",
                                       "arguments": {"username": "user3", "password": "user3pass"}}]}  # fmt: skip
    assert msgs[4] == {"role": "tool", "content": "{'token': 'p9o8i7u6y5t4r3e2w1q'}"}
    assert msgs[-1]["content"] == "Okay, modifying alarm..."
    assert [t["name"] for t in cases["L1-100"].item.sample.tools] == ["ModifyAlarm", "GetUserToken", "AddAgenda"]


L1_000 = {"appointment_id": "34567890", "new_appointment_date": "2023-03-26", "new_appointment_doctor": "Dr. Lee"}
L1_019 = {"token": "a9s8d7f6g5h4j3k2l1", "meeting_topic": "Sales Meeting", "start_time": "2023-03-20 14:00:00",
          "end_time": "2023-03-20 16:00:00", "location": "Conference Room A"}  # fmt: skip
HEALTH = [{"name": "blood_pressure", "value": "120/80"}, {"name": "heart_rate", "value": "80"}]
REMINDER = {"token": "n9m8k7j6h5g4f3d2s1a0", "content": "Call mom", "time": "2022-05-10 10:00:00"}


def _calls(*calls: tuple[str, dict]) -> str:
    return canonical_completion([ToolCall(name, args) for name, args in calls])


@pytest.mark.parametrize(
    ("item", "completion", "correct", "error"),
    [
        ("L1-000", _calls(("ModifyRegistration", L1_000)), True, None),
        ("L1-000", _calls(("ModifyRegistration", {**L1_000, "new_appointment_doctor": "Dr Lee"})), False,
         apibank.ARG_VALUE_MISMATCH),
        ("L1-000", _calls(("ModifyRegistration", {k: v for k, v in L1_000.items() if k != "new_appointment_doctor"})),
         False, apibank.ARG_NAMES_MISMATCH),
        ("L1-000", _calls(("ModifyRegistration", {**L1_000, "patient_name": "Kim"})), False,
         apibank.ARG_NAMES_MISMATCH),
        ("L1-000", _calls(("CancelRegistration", {"appointment_id": "34567890"})), False, apibank.NAME_MISMATCH),
        ("L1-001", _calls(("QueryHealthData", {"user_id": " J46801 ", "start_time": "2023-03-05 00:00:00",
                                               "end_time": "2023-03-12 00:00:00"})), True, None),
        ("L1-019", _calls(("QueryMeeting", {**L1_019, "attendees": ["John Smith", "Jane Doe"]})), True, None),
        ("L1-019", _calls(("QueryMeeting", {**L1_019, "attendees": ["Jane Doe", "John Smith"]})), False,
         apibank.ARG_VALUE_MISMATCH),
        ("L1-007", _calls(("RecordHealthData", {"user_id": "12345", "time": "2023-10-13 09:30:00",
                                                "health_data": HEALTH})), True, None),
        ("L1-033", _calls(("RecordHealthData", {"user_id": 12345, "time": "2023-08-06 09:00:00",
                                                "health_data": str(HEALTH)})), True, None),
        ("L1-050", _calls(("AddReminder", REMINDER), ("AddReminder", REMINDER)), False, apibank.COUNT_MISMATCH),
        ("L1-050", _calls(), False, apibank.NO_CALL),
        ("L1-100", "Okay, I modified the alarm.", False, "format:no_tool_call"),
        ("L2-000", _calls(("ToolSearcher", {"keywords": "history October 6th"})), True, None),
        ("L2-000", _calls(("ToolSearcher", {"keywords": "October 6 history"})), False, apibank.ARG_VALUE_MISMATCH),
        ("L2-001", _calls(("QueryHistoryToday", {"date": "10-06"})), True, None),
        ("L2-001", _calls(("QueryHistoryToday", {"date": "2023-10-06"})), False, apibank.ARG_VALUE_MISMATCH),
        ("L2-050", _calls(("GetUserToken", {"username": "user4", "password": "user4pass"})), True, None),
    ],
)  # fmt: skip
def test_hand_checked_verdicts(cases, item, completion, correct, error):
    verdict = apibank.score(cases[item], completion)
    assert (verdict.correct, verdict.error) == (correct, error)


@pytest.mark.parametrize(
    ("text", "call"),
    [
        ("[F(a='x', b='y')]", ToolCall("F", {"a": "x", "b": "y"})),
        ("[F(a='it's, b=1')]", ToolCall("F", {"a": "it's, b=1"})),
        ("[F(n=5, flag=True)]", ToolCall("F", {"n": "5", "flag": "True"})),
        ("[F()]", ToolCall("F", {})),
    ],
)
def test_parse_api_call(text, call):
    assert apibank.parse_api_call(text) == call


@pytest.mark.parametrize("text", ["F(a='x')", "[F(a='x)]", "[F(='x')]"])
def test_parse_api_call_rejects_non_calls(text):
    with pytest.raises(ValueError):
        apibank.parse_api_call(text)


def test_missing_data_dir_and_file_exit_2_with_one_line(tmp_path, capsys):
    assert main(["eval", "apibank", "--data-dir", str(tmp_path / "nope"), "--level", "1"]) == 2
    assert capsys.readouterr().err == f"tooln1: error: API-Bank data dir not found: {tmp_path / 'nope'}\n"
    assert main(["eval", "apibank", "--data-dir", str(tmp_path), "--level", "2"]) == 2
    assert capsys.readouterr().err == f"tooln1: error: API-Bank file not found: {tmp_path / 'level-2-api.json'}\n"

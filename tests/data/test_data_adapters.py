"""Tests for the source adapters: hand-written hub-format fixtures and the real files in ../shared/data, with exact
kept / dropped counts (each derived by hand in the comments), and the gold-passes-its-reward check on every kept
sample.

Example:
    .venv/bin/pytest tests/data/test_data_adapters.py -q
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tooln1.data import openai, sharegpt, toolace, toolrl, xlam
from tooln1.data.build import BuildOptions, SourceSpec, build
from tooln1.data.check import gold_problem
from tooln1.data.records import BadRecord
from tooln1.data.synth import generate
from tooln1.types import Sample, ToolCall

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def run(spec: str) -> tuple[list[Sample], dict]:
    """All kept samples (no test split) and the report entry of a one-source build."""
    splits, report = build([SourceSpec.parse(spec)], BuildOptions(test_fraction=0.0))
    (entry,) = report.to_dict()["sources"].values()
    return splits["train"], entry


def assert_golds_score_one(samples: list[Sample]) -> None:
    assert samples
    assert [s.id for s in samples if gold_problem(s.gold)] == []


def test_xlam_fixture_counts_and_content() -> None:
    samples, r = run(f"xlam={FIXTURES / 'xlam_hub.jsonl'}")
    # 8 lines: rows 1-3 kept (row 3 names an unlisted tool, kept: no membership filter for xLAM); line 4 has
    # invalid answers JSON and line 8 is not JSON; line 5 lacks `query`; line 6 repeats line 1; line 7 has no tools.
    assert (r["read"], r["samples"], r["kept"], r["no_target"]) == (8, 5, 3, 0)
    assert r["dropped"] == {"json:invalid": 2, "record:unparseable": 1, "sample:duplicate": 1, "tools:empty": 1}
    assert r["examples"]["json:invalid"][0].endswith("xlam_hub.jsonl:4: answers: Expecting ',' delimiter: "
                                                     "line 1 column 52 (char 51)")  # fmt: skip
    by_id = {s.id: s for s in samples}
    assert by_id["xlam-0"].messages == [{"role": "user", "content": "Weather in Paris?"}]
    assert [t["name"] for t in by_id["xlam-0"].tools] == ["get_weather", "get_time"]
    assert by_id["xlam-1"].gold == [ToolCall("get_weather", {"city": "Oslo", "unit": "fahrenheit"}),
                                    ToolCall("get_time", {"city": "Oslo"})]  # fmt: skip
    assert by_id["xlam-2"].gold == [ToolCall("book_taxi", {"to": "airport"})]
    assert_golds_score_one(samples)


def test_toolace_fixture_multi_turn_dialog_gives_one_sample_per_call_turn() -> None:
    samples, r = run(f"toolace={FIXTURES / 'toolace_hub.json'}")
    # 7 dialogues: A one call turn, B two, C one (unknown tool), F one (ShareGPT roles) -> 5 samples, 4 kept;
    # D has a positional argument (call:unparseable), G no tool list (record:unparseable), E no call turn.
    assert (r["read"], r["samples"], r["kept"], r["no_target"]) == (7, 5, 4, 1)
    assert r["dropped"] == {"call:unknown_tool": 1, "call:unparseable": 1, "record:unparseable": 1}
    assert r["examples"]["call:unknown_tool"] == [f"{FIXTURES / 'toolace_hub.json'}:56: Weather API"]
    by_id = {s.id: s for s in samples}
    assert sorted(by_id) == ["toolace-0-1", "toolace-1-1", "toolace-1-5", "toolace-5-1"]
    first, second = by_id["toolace-1-1"], by_id["toolace-1-5"]
    assert first.dialog == second.dialog == "toolace-1"
    assert first.gold == [ToolCall("Search News v2", {"query": "AI (the hype), chips", "limit": 5,
                                                       "filters": {"lang": "en", "recent": True}})]  # fmt: skip
    assert second.gold == [ToolCall("Market Trends API", {"trend_type": "GAINERS", "country": "uk"}),
                           ToolCall("Search News v2", {"query": "rates, 2024)"})]  # fmt: skip
    # The second step's history is every earlier turn, the first call rendered as a structured call.
    assert [m["role"] for m in second.messages] == ["user", "assistant", "tool", "assistant", "user"]
    assert second.messages[1]["tool_calls"] == [c.to_dict() for c in first.gold]
    assert second.messages[3] == {"role": "assistant", "content": "I found two articles."}
    assert first.messages == second.messages[:1]
    assert by_id["toolace-5-1"].gold == [ToolCall("Market Trends API", {"trend_type": "GAINERS"})]
    assert_golds_score_one(samples)


def test_toolace_shared_subset_drops_truncated_names(shared_data: Path) -> None:
    samples, r = run(f"toolace={shared_data / 'toolace-subset-zaego123' / 'sharegpt_func_fixed.json'}")
    # 100 dialogues with 181 function_call turns (200 calls, 38 with an exact tool name, per MANIFEST.md).
    # Dialogue 85 holds a function_call turn "[]" (a call the converter lost): the dialogue and its 2 call turns go.
    # Of the 179 remaining steps, 33 name only listed tools; 146 name a truncated tool ("API"): never repaired.
    # One dialogue has no call turn.
    assert (r["read"], r["samples"], r["kept"], r["no_target"]) == (100, 179, 33, 1)
    assert r["dropped"] == {"call:unknown_tool": 146, "call:unparseable": 1}
    # Dialogue 85 starts on line 3760 of the JSON array.
    assert r["examples"]["call:unparseable"][0].endswith(".json:3760: turn 3: function_call turn without a call")
    assert sum(len(s.messages) > 1 for s in samples) == 15  # steps with history beyond the first user turn
    assert_golds_score_one(samples)


@pytest.mark.parametrize(
    ("name", "read", "samples", "kept", "no_target", "duplicates", "multi_turn"),
    [
        # 300 conversations, 153 with function_call turns (211 of them); 20 steps repeat earlier ones exactly.
        ("glaive_toolcall_en_demo.json", 300, 211, 191, 147, 20, 94),
        # 300 conversations, 157 with function_call turns (216 of them); 33 exact repeats.
        ("glaive_toolcall_zh_demo.json", 300, 216, 183, 143, 33, 100),
    ],
)
def test_sharegpt_shared_glaive(shared_data: Path, name: str, read: int, samples: int, kept: int, no_target: int,
                                duplicates: int, multi_turn: int) -> None:  # fmt: skip
    kept_samples, r = run(f"sharegpt={shared_data / 'glaive-llamafactory-demo' / name}")
    assert (r["read"], r["samples"], r["kept"], r["no_target"]) == (read, samples, kept, no_target)
    assert r["dropped"] == {"sample:duplicate": duplicates}
    assert sum(len(s.messages) > 1 for s in kept_samples) == multi_turn
    assert_golds_score_one(kept_samples)


def test_sharegpt_convert_reads_history_and_string_arguments() -> None:
    raw = {"tools": '[{"name": "f", "parameters": {}}]', "conversations": [
        {"from": "human", "value": "go"}, {"from": "gpt", "value": "Sure."}, {"from": "human", "value": "now"},
        {"from": "function_call", "value": '{"name": "f", "arguments": "{\\"x\\": [1]}"}'}]}  # fmt: skip
    (s,) = sharegpt.convert(raw, "9")
    assert s.id == "sharegpt-9-3" and s.gold == [ToolCall("f", {"x": [1]})]
    assert s.messages == [{"role": "user", "content": "go"}, {"role": "assistant", "content": "Sure."},
                          {"role": "user", "content": "now"}]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "read", "kept", "no_call", "with_reasoning", "multi_turn"),
    [
        # 80 rows: 71 call targets + 9 <response>-only targets (gold []); row 9 calls "DAX Point Changes for Each
        # Month " while the tool is "... (January-August, 2022)": ToolRL's own regex split the name.
        ("rlla_4k_test.parquet", 80, 79, 9, 0, 7),
        # 400 rows: 346 with calls, 54 <response>-only; row 130 has calls "LastName varchar" and 'HireDate date")'.
        ("rlla_sft.json", 400, 399, 54, 399, 40),
    ],
)
def test_toolrl_shared_rlla(shared_data: Path, name: str, read: int, kept: int, no_call: int, with_reasoning: int,
                            multi_turn: int) -> None:  # fmt: skip
    samples, r = run(f"toolrl={shared_data / 'toolrl-rlla' / name}")
    assert (r["read"], r["samples"], r["kept"], r["no_target"]) == (read, read, kept, 0)
    assert r["dropped"] == {"call:unknown_tool": 1}
    assert sum(not s.gold for s in samples) == no_call
    assert sum(s.reasoning is not None for s in samples) == with_reasoning
    assert sum(len(s.messages) > 1 for s in samples) == multi_turn
    assert_golds_score_one(samples)


def test_toolrl_convert_parses_tools_history_and_parameters_key() -> None:
    raw = {
        "instruction": "Intro\n**Available Tools**\n1. Name: Get News\nDescription: News.\n"
                       'Parameters: {"page": {"type": "int"}}\n\n**Steps for Each Turn**\n...',
        "input": "**Dialogue Records History**\n<user> hi </user>\n<think> x </think>\n<tool_call>\n"
                 '{"name": "Get News", "parameters": {"page": 1}}\n</tool_call>\n<obs> ok </obs>\n<user> more </user>',
        "output": '<think> why </think>\n<tool_call>\n{"name": "Get News", "parameters": {"page": 2}}\n</tool_call>',
    }  # fmt: skip
    (s,) = toolrl.convert(raw, "3")
    assert s.tools == [{"name": "Get News", "description": "News.", "parameters": {"page": {"type": "int"}}}]
    assert s.gold == [ToolCall("Get News", {"page": 2})] and s.reasoning == "why"
    assert s.messages == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "", "tool_calls": [{"name": "Get News", "arguments": {"page": 1}}]},
        {"role": "tool", "content": "ok"},
        {"role": "user", "content": "more"},
    ]


def test_openai_round_trip_through_export() -> None:
    originals = generate(40, seed=3) + [Sample("t-1", "toolace", [{"name": "f"}], [
        {"role": "user", "content": "a"}, {"role": "assistant", "content": "", "tool_calls": [
            {"name": "f", "arguments": {"x": 1}}, {"name": "f", "arguments": {"x": 2}}]},
        {"role": "tool", "content": "r1"}, {"role": "tool", "content": "r2"}, {"role": "user", "content": "b"}],
        [ToolCall("f", {"x": 3})])]  # fmt: skip
    for original in originals:
        row = json.loads(json.dumps(to := openai.to_openai(original)))
        assert all(
            isinstance(c["function"]["arguments"], str) for m in to["messages"] for c in m.get("tool_calls", [])
        )
        *earlier, back = openai.convert(row, "0")  # earlier call turns of the history are samples too
        assert len(earlier) == sum("tool_calls" in m for m in original.messages)
        assert (back.tools, back.messages, back.gold) == (original.tools, original.messages, original.gold)
    tool_turns = openai.to_openai(originals[-1])["messages"][2:4]
    assert [m["tool_call_id"] for m in tool_turns] == ["call_1_0", "call_1_1"]


def test_openai_convert_skips_system_and_text_turns() -> None:
    raw = {"tools": [{"type": "function", "function": {"name": "f"}}], "messages": [
        {"role": "system", "content": "be nice"}, {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {"role": "assistant", "content": "Hello!"},
        {"role": "assistant", "content": None, "tool_calls": [{"type": "function", "function": {
            "name": "f", "arguments": "{}"}}]}]}  # fmt: skip
    (s,) = openai.convert(raw, "0")
    assert s.tools == [{"name": "f"}] and s.gold == [ToolCall("f", {})]
    assert s.messages == [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello!"}]


@pytest.mark.parametrize(
    ("adapter", "raw", "reason"),
    [
        (xlam, ["not", "an", "object"], "record:unparseable"),
        (xlam, {"query": "q", "tools": [{"no_name": 1}], "answers": []}, "record:unparseable"),
        (xlam, {"query": "q", "tools": "[]", "answers": '[{"name": "f", "arguments": "{bad"}]'}, "json:invalid"),
        (toolace, {"system": toolace.TOOLS_MARKER + "\n[{]", "conversations": []}, "json:invalid"),
        (toolace, {"system": toolace.TOOLS_MARKER + '[{"name": "f"}]', "conversations": [{"from": "robot"}]},
         "record:unparseable"),
        (sharegpt, {"conversations": "nope"}, "record:unparseable"),
        (toolrl, {"instruction": "1. Name: f\nDescription: d\nParameters: {oops}", "input": "", "output": ""},
         "json:invalid"),
        (toolrl, {"instruction": "", "input": "", "output": "<think> x </think>"}, "record:unparseable"),
        (openai, {"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f"}}]}]},
         "record:unparseable"),
    ],
)  # fmt: skip
def test_convert_raises_bad_record_with_reason(adapter, raw, reason: str) -> None:
    with pytest.raises(BadRecord) as info:
        adapter.convert(raw, "0")
    assert info.value.reason == reason

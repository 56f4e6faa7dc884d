"""Record types: `ToolCall` and `Sample` shapes, validation and exact JSON round trips.

Example:
    $ .venv/bin/pytest tests/test_types.py -q
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from tooln1.types import Sample, ToolCall, calls_from_json, calls_to_json

TOOLS = [{"name": "get_weather", "description": "Wetter in Zürich", "parameters": {"city": {"type": "str"}}, "x-extra": [1, None]}]
HISTORY = [
    {"role": "user", "content": "Wetter in Zürich und die Uhrzeit?"},
    {"role": "assistant", "content": "", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Zürich"}}]},
    {"role": "tool", "content": '{"temp": 21}'},
]


def test_tool_call_dict_round_trip():
    c = ToolCall("get_weather", {"city": "Zürich", "opts": {"days": [1, 2], "metric": True}})
    assert c.to_dict() == {"name": "get_weather", "arguments": {"city": "Zürich", "opts": {"days": [1, 2], "metric": True}}}
    assert ToolCall.from_dict(c.to_dict()) == c
    assert ToolCall.from_dict({"name": "f", "arguments": {}, "id": "call_1"}) == ToolCall("f", {})  # extra keys ignored


@pytest.mark.parametrize(
    "bad",
    [{"name": "f"}, {"arguments": {}}, {"name": 1, "arguments": {}}, {"name": "f", "arguments": '{"x": 1}'},
     {"name": "f", "arguments": None}, {"name": "f", "arguments": [1]}, ["f", {}], "f", None],
)  # fmt: skip
def test_tool_call_rejects_other_shapes(bad):
    with pytest.raises(ValueError, match="not a tool call"):
        ToolCall.from_dict(bad)


def test_tool_call_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ToolCall("f", {}).name = "g"  # type: ignore[misc]


def test_calls_json_exact():
    calls = [ToolCall("f", {"x": 1, "s": "ü"}), ToolCall("g", {})]
    text = calls_to_json(calls)
    assert text == '[{"name": "f", "arguments": {"x": 1, "s": "\\u00fc"}}, {"name": "g", "arguments": {}}]'
    assert calls_from_json(text) == calls
    assert calls_from_json(json.loads(text)) == calls  # an already decoded list is accepted too
    assert calls_to_json([]) == "[]" and calls_from_json("[]") == []


@pytest.mark.parametrize("bad", ['{"name": "f", "arguments": {}}', "5", '"[]"'])
def test_calls_from_json_needs_a_list(bad):
    with pytest.raises(ValueError, match="must be a JSON list"):
        calls_from_json(bad)


def test_calls_from_json_bad_json():
    with pytest.raises(ValueError):
        calls_from_json("[{")


def _sample(**kw) -> Sample:
    base = dict(id="toolace-12-3", source="toolace", tools=TOOLS, messages=HISTORY,
                gold=[ToolCall("get_time", {"tz": "Europe/Zurich"})], dialog="toolace-12", reasoning="Erst das Wetter.")  # fmt: skip
    return Sample(**{**base, **kw})


def test_sample_json_round_trip_exact():
    s = _sample()
    line = s.to_json()
    assert "\n" not in line and "Zürich" in line  # one JSONL line, non-ASCII kept readable
    assert Sample.from_json(line) == s
    d = json.loads(line)
    assert d == {
        "id": "toolace-12-3", "source": "toolace", "tools": TOOLS, "messages": HISTORY,
        "gold": [{"name": "get_time", "arguments": {"tz": "Europe/Zurich"}}], "dialog": "toolace-12",
        "reasoning": "Erst das Wetter.",
    }  # fmt: skip
    assert Sample.from_dict(d) == s and Sample.from_dict(d).gold == [ToolCall("get_time", {"tz": "Europe/Zurich"})]


def test_sample_tools_kept_as_given():
    s = Sample.from_json(_sample().to_json())
    assert s.tools == TOOLS and list(s.tools[0]) == ["name", "description", "parameters", "x-extra"]


def test_sample_empty_gold_and_defaults():
    s = Sample(id="x1", source="xlam", tools=TOOLS, messages=HISTORY[:1], gold=[])
    d = s.to_dict()
    assert d["gold"] == [] and d["dialog"] == "x1" and d["reasoning"] is None  # dialog defaults to the id
    back = Sample.from_json(s.to_json())
    assert back == s and back.gold == [] and back.dialog == "x1"
    assert hash(back) == hash(s)


def test_sample_equality_sees_every_field():
    s = _sample()
    assert s != _sample(gold=[])
    assert s != _sample(reasoning=None)
    assert s != _sample(dialog="other")
    assert s != _sample(messages=HISTORY[:1])
    assert s != "not a sample"


def test_sample_gold_given_as_json_string():
    d = _sample().to_dict()
    d["gold"] = json.dumps(d["gold"])
    assert Sample.from_dict(d) == _sample()


def test_sample_malformed():
    with pytest.raises(KeyError):
        Sample.from_dict({"id": "a", "source": "b", "tools": [], "messages": []})
    with pytest.raises(ValueError):
        Sample.from_dict({"id": "a", "source": "b", "tools": [], "messages": [], "gold": [{"name": "f"}]})

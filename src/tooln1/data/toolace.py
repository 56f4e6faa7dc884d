"""ToolACE adapter (`Team-ACE/ToolACE`): one sample per assistant call turn, earlier turns as history (§1.4).

Raw dialogue (hub format). The tools are the JSON list inside the `system` text; assistant calls use Python-call
syntax, parsed by `tooln1.data.pycall` (never `eval`):

    {"system": "You are an expert in composing functions. ... Here is a list of functions in JSON format that you
                can invoke:\\n[{\\"name\\": \\"Market Trends API\\", ...}]. \\nShould you decide to return ...",
     "conversations": [
        {"from": "user", "value": "Top market trends in the US?"},
        {"from": "assistant", "value": "[Market Trends API(trend_type=\\"MARKET_INDEXES\\", country=\\"us\\")]"},
        {"from": "tool", "value": "[{\\"name\\": \\"Market Trends API\\", \\"results\\": {...}}]"},
        {"from": "assistant", "value": "Here are the top market trends ..."}]}

gives one sample: history = the user turn, gold = `[ToolCall("Market Trends API", {"trend_type":
"MARKET_INDEXES", "country": "us"})]`. The ShareGPT re-export (roles human / gpt / function_call / observation,
with `function_call` values as JSON `{"name", "arguments"}`) is read too.

Example:
    $ tooln1 data build --source toolace=Team-ACE/ToolACE --out data/toolace

Drops: a call turn whose syntax does not parse drops its whole dialogue (`call:unparseable`: later steps would
carry a broken history); a gold call naming a tool absent from the tool list drops that step
(`call:unknown_tool`, in the build's filters). Names are never repaired. The zaego123 re-export in
`shared/data/toolace-subset-zaego123` truncated called names to their last word ("Market Trends API" -> "API");
those steps are dropped and counted rather than guessed back by suffix, so the report shows the loss.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tooln1 import safejson
from tooln1.data.dialog import (
    assistant_calls,
    conversation_turns,
    function_call_turn,
    plain_turn,
    step_samples,
)
from tooln1.data.pycall import CallSyntaxError, looks_like_calls, parse_python_calls
from tooln1.data.reading import Record, read_records
from tooln1.data.records import CALL_UNPARSEABLE, RECORD_UNPARSEABLE, BadRecord, text_field, tool_list
from tooln1.types import Sample

NAME = "toolace"
HUB_ID = "Team-ACE/ToolACE"
CHECK_TOOL_MEMBERSHIP = True
TOOLS_MARKER = "Here is a list of functions in JSON format that you can invoke:"


def tools_from_system(system: str) -> list[dict[str, Any]]:
    """The JSON tool list that follows TOOLS_MARKER in ToolACE's system text.

    The official code cuts the text at "\\nShould you decide..." and drops its last two characters to remove
    the ". " after the list; `raw_decode` reads exactly one JSON value instead, whatever follows it.
    """
    at = system.find(TOOLS_MARKER)
    start = system.find("[", at + len(TOOLS_MARKER)) if at >= 0 else -1
    if start < 0:
        raise BadRecord(RECORD_UNPARSEABLE, "no tool list in the system text")
    try:
        tools, _ = safejson.raw_decode(system, start, "tool list in the system text")
    except safejson.JsonProblem as e:
        raise BadRecord(e.reason, str(e)) from None
    return tool_list(tools)


def _message(role: str, text: str, index: int) -> dict[str, Any]:
    if role == "function_call":
        return function_call_turn(text, index)
    if role in ("assistant", "gpt") and looks_like_calls(text):
        try:
            return assistant_calls(parse_python_calls(text))
        except CallSyntaxError as e:
            raise BadRecord(CALL_UNPARSEABLE, f"turn {index}: {e}") from None
    return plain_turn(role, text)


def convert(raw: Any, key: str = "0") -> list[Sample]:
    """All call-turn samples of one dialogue; raises `BadRecord` for a malformed dialogue."""
    tools = tools_from_system(text_field(raw, "system"))
    return step_samples(NAME, key, tools, conversation_turns(raw, _message))


def load(ref: str = HUB_ID) -> Iterator[Record]:
    """Raw dialogues of a hub id or a local JSON / JSONL / parquet file."""
    return read_records(ref)

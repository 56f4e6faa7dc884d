"""ShareGPT adapter (glaive-function-calling-v2 and LLaMA-Factory style): one sample per `function_call` turn.

Raw row: `conversations` of `{from, value}` turns with roles human / gpt / function_call / observation, and
`tools` as a JSON string (or a list). A `function_call` value is a JSON `{"name", "arguments"}` object or a list
of them; `arguments` may itself be a JSON string.

    {"conversations": [
        {"from": "human", "value": "I have chicken and rice."},
        {"from": "function_call", "value": "{\\"name\\": \\"search_recipes\\", \\"arguments\\":
                                             {\\"ingredients\\": [\\"chicken\\", \\"rice\\"]}}"},
        {"from": "observation", "value": "{\\"recipes\\": [...]}"},
        {"from": "gpt", "value": "I found two recipes ..."}],
     "tools": "[{\\"name\\": \\"search_recipes\\", \\"parameters\\": {\\"type\\": \\"object\\", ...}}]"}

gives one sample with the human turn as history and gold `[ToolCall("search_recipes", {"ingredients":
["chicken", "rice"]})]`. Rows without a `function_call` turn give no sample (a plain reply is never a target,
§1.4 step 5); turns given as `{role, content}` are read too.

Example:
    $ tooln1 data build --source sharegpt=../shared/data/glaive-llamafactory-demo/glaive_toolcall_en_demo.json --out d
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tooln1.data.dialog import conversation_turns, function_call_turn, plain_turn, step_samples
from tooln1.data.reading import Record, read_records
from tooln1.data.records import decode_json, tool_list
from tooln1.types import Sample

NAME = "sharegpt"
HUB_ID = "llamafactory/glaive_toolcall_en"  # LLaMA-Factory's ShareGPT copy of glaive-function-calling-v2
CHECK_TOOL_MEMBERSHIP = True


def _message(role: str, text: str, index: int) -> dict[str, Any]:
    return function_call_turn(text, index) if role == "function_call" else plain_turn(role, text)


def convert(raw: Any, key: str = "0") -> list[Sample]:
    """All `function_call`-turn samples of one conversation; raises `BadRecord` for a malformed row."""
    turns = conversation_turns(raw, _message)  # first: it rejects a record that is not an object
    return step_samples(NAME, key, tool_list(decode_json(raw.get("tools") or [], "tools")), turns)


def load(ref: str = HUB_ID) -> Iterator[Record]:
    """Raw conversations of a hub id or a local JSON / JSONL / parquet file."""
    return read_records(ref)

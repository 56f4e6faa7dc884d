"""OpenAI chat adapter, for import and export: `{"messages": [...], "tools": [...]}` per JSONL line.

Import: one sample per assistant turn with `tool_calls`, all earlier turns as history (system turns are dropped:
Tool-N1 writes its own system prompt). Tools may be wrapped (`{"type": "function", "function": {...}}`, unwrapped
here because the prompt wraps them again) or bare; call arguments may be a JSON string (OpenAI's form) or an
object.

    {"tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {...}}}],
     "messages": [{"role": "user", "content": "Weather in Paris?"},
                  {"role": "assistant", "content": null, "tool_calls": [{"id": "call_0", "type": "function",
                   "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}}]}]}

Export (`to_openai`): the history plus the gold as the last assistant turn, call ids `call_<turn>_<k>` and the
matching `tool_call_id` on the tool turns that follow. A no-call gold is written as an assistant turn with empty
content and `"tool_calls": []`, which import reads back as a no-call target, so export -> import round-trips.

Example:
    $ tooln1 data build --source openai=chats.jsonl --out data/chats     # import
    $ head -1 data/chats/openai/train.jsonl                              # export, written by every build
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from tooln1.data.dialog import assistant_calls, plain_turn, step_samples, turn_role
from tooln1.data.reading import Record, read_records
from tooln1.data.records import RECORD_UNPARSEABLE, BadRecord, call_list, decode_json, field, tool_list
from tooln1.types import Sample

NAME = "openai"
HUB_ID = None  # no canonical hub dataset: give a local JSONL path or a hub id
CHECK_TOOL_MEMBERSHIP = True


def _unwrap(t: Any) -> Any:
    return t["function"] if isinstance(t, dict) and t.get("type") == "function" and "function" in t else t


def _content(turn: dict[str, Any]) -> str:
    content = turn.get("content")
    if isinstance(content, list):  # content parts: keep the text ones
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return turn_role(turn)[1]


def convert(raw: Any, key: str = "0") -> list[Sample]:
    """All call-turn samples of one chat; raises `BadRecord` for a malformed chat."""
    messages = field(raw, "messages")
    if not isinstance(messages, list):
        raise BadRecord(RECORD_UNPARSEABLE, "'messages' is not a list")
    tools = decode_json(raw.get("tools") or [], "tools")
    tools = tool_list([_unwrap(t) for t in tools] if isinstance(tools, list) else tools)
    turns = []
    for m in messages:
        role = turn_role({**m, "content": None} if isinstance(m, dict) else m)[0]
        calls = m.get("tool_calls") if role == "assistant" else None
        if calls is not None:
            if not isinstance(calls, list):
                raise BadRecord(RECORD_UNPARSEABLE, "'tool_calls' is not a list")
            turns.append(assistant_calls(call_list([_unwrap(c) for c in calls]), _content(m)))
        elif role:
            turns.append(plain_turn(role, _content(m)))
    return step_samples(NAME, key, tools, turns)


def to_openai(sample: Sample) -> dict[str, Any]:
    """The sample as an OpenAI chat row, its gold as the final assistant turn."""
    messages: list[dict[str, Any]] = []
    pending: list[str] = []
    for i, m in enumerate(
        [*sample.messages, {"role": "assistant", "content": "", "tool_calls": sample.to_dict()["gold"]}]
    ):
        if m["role"] == "assistant" and "tool_calls" in m:
            ids = [f"call_{i}_{k}" for k in range(len(m["tool_calls"]))]
            calls = [{"id": cid, "type": "function",
                      "function": {"name": c["name"], "arguments": json.dumps(c["arguments"], ensure_ascii=False)}}
                     for cid, c in zip(ids, m["tool_calls"], strict=True)]  # fmt: skip
            messages.append({"role": "assistant", "content": m["content"], "tool_calls": calls})
            pending = ids
        elif m["role"] == "tool" and pending:
            messages.append({"role": "tool", "tool_call_id": pending.pop(0), "content": m["content"]})
        else:
            messages.append({"role": m["role"], "content": m["content"]})
    return {"messages": messages, "tools": [{"type": "function", "function": t} for t in sample.tools]}


def load(ref: str) -> Iterator[Record]:
    """Raw chats of a local JSON / JSONL / parquet file or a hub id."""
    return read_records(ref)

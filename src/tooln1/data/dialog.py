"""Cut a multi-turn dialogue into single-step samples: one per assistant call turn, with every earlier turn as
history (method §1.4 step 4). Shared by the ToolACE, ShareGPT and OpenAI adapters.

Adapters first turn their source's turns into history messages (`user` / `assistant` / `tool`; an assistant turn
that calls tools carries `tool_calls`), then `step_samples` emits the samples. Plain assistant text turns are
history only, never targets, as in the released pipeline (`include_nocall=False`, §1.4 step 5). The one
exception is an assistant turn with an explicit empty `tool_calls` list and no text: our own export's marker for
a "no call is correct" target (see `tooln1.data.openai`).

Example:
    >>> turns = [user("hi"), assistant_calls([ToolCall("f", {})]), tool("ok"), user("again"),
    ...          assistant_calls([ToolCall("g", {"x": 1})])]
    >>> [(s.id, len(s.messages), s.gold[0].name) for s in step_samples("toolace", "7", [{"name": "f"}], turns)]
    [('toolace-7-1', 1, 'f'), ('toolace-7-4', 4, 'g')]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tooln1.data.records import CALL_UNPARSEABLE, RECORD_UNPARSEABLE, BadRecord, call_list, field
from tooln1.types import Sample, ToolCall

# Role names of every supported source, mapped to ours; `function_call` turns are assistant call turns.
ROLE_MAP = {
    "user": "user", "human": "user",
    "assistant": "assistant", "gpt": "assistant", "function_call": "assistant",
    "tool": "tool", "observation": "tool", "function": "tool", "ipython": "tool",
}  # fmt: skip


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def tool(text: str) -> dict[str, Any]:
    return {"role": "tool", "content": text}


def assistant_text(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


def assistant_calls(calls: list[ToolCall], text: str = "") -> dict[str, Any]:
    return {"role": "assistant", "content": text, "tool_calls": [c.to_dict() for c in calls]}


def plain_turn(role: str, text: str) -> dict[str, Any]:
    """A text turn under our role name (`function_call` turns go through `function_call_turn` instead)."""
    return {"role": ROLE_MAP[role], "content": text}


def function_call_turn(value: str, index: int) -> dict[str, Any]:
    """A ShareGPT `function_call` turn (JSON call object or list). One without any call is a broken conversion
    (zaego123's ToolACE copy has one, where the observation shows a call was made), not a "no call" target."""
    calls = call_list(value)
    if not calls:
        raise BadRecord(CALL_UNPARSEABLE, f"turn {index}: function_call turn without a call")
    return assistant_calls(calls)


def turn_role(turn: Any) -> tuple[str, str]:
    """(source role, text) of a ShareGPT `{from, value}` or chat `{role, content}` turn; system turns give ("", "")."""
    if not isinstance(turn, dict):
        raise BadRecord(RECORD_UNPARSEABLE, f"turn is a {type(turn).__name__}, not an object")
    role = turn.get("from", turn.get("role"))
    text = turn.get("value", turn.get("content"))
    if role == "system":
        return "", ""
    if role not in ROLE_MAP:
        raise BadRecord(RECORD_UNPARSEABLE, f"unknown role {role!r}")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise BadRecord(RECORD_UNPARSEABLE, f"{role} turn text is a {type(text).__name__}, not a string")
    return role, text


def conversation_turns(raw: Any, message: Callable[[str, str, int], dict[str, Any]]) -> list[dict[str, Any]]:
    """History messages of `raw["conversations"]`, each made by `message(source_role, text, turn_index)`; system
    turns are skipped (Tool-N1 writes its own system prompt)."""
    conversations = field(raw, "conversations")
    if not isinstance(conversations, list):
        raise BadRecord(RECORD_UNPARSEABLE, "'conversations' is not a list")
    turns = []
    for i, turn in enumerate(conversations):
        role, text = turn_role(turn)
        if role:
            turns.append(message(role, text, i))
    return turns


def step_samples(source: str, key: str, tools: list[dict[str, Any]], turns: list[dict[str, Any]]) -> list[Sample]:
    """One sample per assistant call turn (or explicit no-call turn), history = all turns before it."""
    dialog = f"{source}-{key}"
    samples = []
    for i, turn in enumerate(turns):
        if turn["role"] != "assistant" or "tool_calls" not in turn:
            continue
        if not turn["tool_calls"] and turn["content"]:
            continue
        gold = [ToolCall.from_dict(c) for c in turn["tool_calls"]]
        samples.append(Sample(f"{dialog}-{i}", source, tools, turns[:i], gold, dialog=dialog))
    return samples

"""Record types shared by every stage: a tool call and a single-step training/evaluation sample.

A `Sample` is one *next-assistant-step* prediction (method §1.2): the tool list exactly as the source gave it,
the dialogue history before the target step, and the gold call list. An empty gold list means "no call is
correct" (irrelevance); the model must answer `<tool_call>[]</tool_call>` to score 1.

Example:
    >>> s = Sample(
    ...     id="xlam-7", source="xlam",
    ...     tools=[{"name": "get_weather", "description": "Weather now", "parameters": {"city": {"type": "str"}}}],
    ...     messages=[{"role": "user", "content": "Weather in Paris?"}],
    ...     gold=[ToolCall("get_weather", {"city": "Paris"})],
    ... )
    >>> Sample.from_json(s.to_json()) == s
    True

History messages are plain dicts with `role` in {"user", "assistant", "tool"} and a string `content`. An
assistant turn that called tools carries `tool_calls`: a list of `{"name", "arguments"}` dicts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

ROLES = ("user", "assistant", "tool")


@dataclass(frozen=True)
class ToolCall:
    """One function call: a name and its JSON-object arguments."""

    name: str
    arguments: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": self.arguments}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ToolCall:
        """Build from `{"name", "arguments"}`; raises `ValueError` on any other shape."""
        if not isinstance(d, dict) or not isinstance(d.get("name"), str) or not isinstance(d.get("arguments"), dict):
            raise ValueError(f"not a tool call: {d!r}")
        return cls(d["name"], d["arguments"])


def calls_to_json(calls: list[ToolCall]) -> str:
    """The JSON string of a call list, as stored in `ground_truth` columns (method §1.6)."""
    return json.dumps([c.to_dict() for c in calls])


def calls_from_json(text: str | list) -> list[ToolCall]:
    """Inverse of `calls_to_json`; also accepts an already decoded list."""
    data = json.loads(text) if isinstance(text, str) else text
    if not isinstance(data, list):
        raise ValueError(f"gold calls must be a JSON list, got {type(data).__name__}")
    return [ToolCall.from_dict(d) for d in data]


@dataclass(frozen=True)
class Sample:
    """One single-step Tool-N1 sample.

    Attributes:
        id: unique id within a built dataset.
        source: the adapter that produced it ("xlam", "toolace", "synth", ...).
        tools: tool schemas exactly as the source gave them (never normalised: the prompt shows them as-is).
        messages: dialogue history before the target step (see module docstring).
        gold: the gold call list; empty means "no call is correct".
        dialog: the source dialogue this step came from; all steps of one dialogue land in the same split.
        reasoning: an optional reasoning trace from the data (used as the SFT `<think>` target).
    """

    id: str
    source: str
    tools: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    gold: list[ToolCall]
    dialog: str = ""
    reasoning: str | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "tools": self.tools,
            "messages": self.messages,
            "gold": [c.to_dict() for c in self.gold],
            "dialog": self.dialog or self.id,
            "reasoning": self.reasoning,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Sample:
        return cls(
            id=str(d["id"]),
            source=str(d["source"]),
            tools=list(d["tools"]),
            messages=list(d["messages"]),
            gold=calls_from_json(d["gold"]),
            dialog=str(d.get("dialog") or d["id"]),
            reasoning=d.get("reasoning"),
        )

    @classmethod
    def from_json(cls, line: str) -> Sample:
        return cls.from_dict(json.loads(line))

    def __eq__(self, other: object) -> bool:
        # `dialog` defaults to the id when serialised, so compare the serialised forms.
        return isinstance(other, Sample) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.to_json())

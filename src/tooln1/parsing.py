"""Parse a model completion into its think text, its call list and a reason code. Never raises.

The rules are those of the official reward (method §3.2):
1. take the LAST non-greedy `<tool_call>(.*?)</tool_call>` match (DOTALL), strip it, `json.loads` it;
2. a JSON string payload is decoded once more; a dict is promoted to a one-item list;
3. the think check is a substring check: both "<think>" and "</think>" appear anywhere in the completion;
4. every element must be an object with the keys "name" and "arguments" (an empty list passes).

Example:
    >>> p = parse_completion('<think>easy</think><tool_call>{"name": "f", "arguments": {"x": 1}}</tool_call>')
    >>> p.calls, p.think, p.reason
    ([{'name': 'f', 'arguments': {'x': 1}}], 'easy', 'ok')
    >>> parse_completion("<think></think><tool_call>5</tool_call>").reason
    'call:not_list'

Both regexes of the official code (`<tool_call>(.*?)</tool_call>` and `<think>(.*?)</think>`, DOTALL) are
evaluated with `str.find`, which gives the same matches about 4x faster: the reward runs on every rollout.

Reason codes, in the official order of checks: `format:no_tool_call`, `format:invalid_json`, then
`format:missing_think`, then the structure codes `call:not_list`, `call:not_object`, `call:missing_name`,
`call:missing_arguments`. `error` holds the payload code alone (think ignored), for the no-think reward variant.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

OPEN_CALL, CLOSE_CALL = "<tool_call>", "</tool_call>"
OPEN_THINK, CLOSE_THINK = "<think>", "</think>"

OK = "ok"
NO_TOOL_CALL = "format:no_tool_call"
INVALID_JSON = "format:invalid_json"
MISSING_THINK = "format:missing_think"
NOT_LIST = "call:not_list"
NOT_OBJECT = "call:not_object"
MISSING_NAME = "call:missing_name"
MISSING_ARGUMENTS = "call:missing_arguments"


@dataclass(frozen=True, slots=True)
class ParsedCompletion:
    """What a completion contains.

    Attributes:
        calls: the call list (dicts with "name" and "arguments"), or None when the payload is unusable.
        has_think: both "<think>" and "</think>" occur (the official format check).
        think: the text of the first `<think>…</think>` block, or None.
        error: the payload error code, or None when `calls` is usable.
    """

    calls: list[dict[str, Any]] | None
    has_think: bool
    think: str | None
    error: str | None

    @property
    def reason(self) -> str:
        """The first failing check in the official order: payload parse, think, structure; else "ok"."""
        if self.error in (NO_TOOL_CALL, INVALID_JSON):
            return self.error
        if not self.has_think:
            return MISSING_THINK
        return self.error or OK


# `json.loads` with default arguments delegates to a default decoder like this one after a BOM check (a leading
# BOM fails here too, as "Expecting value"); calling the decoder directly skips that per-call overhead.
_DECODER = json.JSONDecoder()


def _loads(text: str) -> tuple[Any, bool]:
    try:
        return _DECODER.decode(text), True
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting must not crash training
        return None, False


def _last_block(text: str) -> str | None:
    """The last match of the regex `<tool_call>(.*?)</tool_call>` (DOTALL), or None.

    Regex matches do not overlap and each one runs from the first open tag after the previous match to the first
    close tag after that open tag (non-greedy), so nested open tags stay inside the payload, as in the official code.
    """
    block, pos = None, 0
    while (start := text.find(OPEN_CALL, pos)) >= 0:
        end = text.find(CLOSE_CALL, start + len(OPEN_CALL))
        if end < 0:
            break
        block, pos = text[start + len(OPEN_CALL) : end], end + len(CLOSE_CALL)
    return block


def _decode_payload(text: str) -> tuple[list[Any] | None, str | None]:
    """Steps 1-2 and 4 of the module rules on the last `<tool_call>` payload."""
    block = _last_block(text)
    if block is None:
        return None, NO_TOOL_CALL
    payload, ok = _loads(block.strip())
    if not ok:
        return None, INVALID_JSON
    if isinstance(payload, str):
        payload, ok = _loads(payload)
        if not ok:
            return None, INVALID_JSON
    if isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list):
        # The official code iterates over the payload here and raises TypeError on a bare number or bool.
        return None, NOT_LIST
    for item in payload:
        if not isinstance(item, dict):
            return None, NOT_OBJECT
        if "name" not in item:
            return None, MISSING_NAME
        if "arguments" not in item:
            return None, MISSING_ARGUMENTS
    return payload, None


def parse_completion(text: str) -> ParsedCompletion:
    """Parse one completion (just the generated text, no prompt). Never raises on any string."""
    calls, error = _decode_payload(text)
    start = text.find(OPEN_THINK)
    has_think = start >= 0 and CLOSE_THINK in text
    think = None
    if has_think:
        # The first match of `<think>(.*?)</think>`: if the first open tag has no close tag after it, none has.
        end = text.find(CLOSE_THINK, start + len(OPEN_THINK))
        think = text[start + len(OPEN_THINK) : end].strip() if end >= 0 else None
    return ParsedCompletion(calls=calls, has_think=has_think, think=think, error=error)

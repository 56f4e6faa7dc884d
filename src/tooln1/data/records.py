"""Drop reasons, the error an adapter raises for a record it cannot convert, and field helpers the adapters share.

Every drop in `tooln1 data build` carries one of the reason codes below, and the report counts them per source.
Record-level reasons (`record:unparseable`, `json:invalid`, `call:unparseable`, and the text and JSON classes of
`tooln1.safejson`: `text:not_utf8`, `text:lone_surrogate`, `json:too_deep`, `json:number_too_large`) count
*records*: decoding or `convert` raised `BadRecord` and the whole record is skipped. Sample-level reasons (`tools:empty`, `call:unknown_tool`,
`sample:duplicate`, `prompt:too_long`) count *samples* dropped by the filters after conversion.

Example:
    >>> call_list('[{"name": "f", "arguments": {"x": 1}}]')
    [ToolCall(name='f', arguments={'x': 1})]
    >>> try:
    ...     json_field({"tools": "[{"}, "tools")
    ... except BadRecord as e:
    ...     print(e.reason)
    json:invalid
"""

from __future__ import annotations

from typing import Any

from tooln1 import safejson
from tooln1.safejson import INVALID_JSON, LONE_SURROGATE, NOT_UTF8, NUMBER_TOO_LARGE, TOO_DEEP, JsonProblem
from tooln1.types import ToolCall

RECORD_UNPARSEABLE = "record:unparseable"
CALL_UNPARSEABLE = "call:unparseable"
EMPTY_TOOLS = "tools:empty"
UNKNOWN_TOOL = "call:unknown_tool"
DUPLICATE = "sample:duplicate"
PROMPT_TOO_LONG = "prompt:too_long"

# The text and JSON classes come from `tooln1.safejson` (not UTF-8, lone surrogate, too deep, huge number).
RECORD_REASONS = (
    RECORD_UNPARSEABLE, INVALID_JSON, CALL_UNPARSEABLE, NOT_UTF8, LONE_SURROGATE, TOO_DEEP, NUMBER_TOO_LARGE,
)  # fmt: skip
SAMPLE_REASONS = (EMPTY_TOOLS, UNKNOWN_TOOL, DUPLICATE, PROMPT_TOO_LONG)


class BadRecord(JsonProblem):
    """A record `convert` cannot turn into samples; `reason` is one of RECORD_REASONS.

    A subclass of `safejson.JsonProblem`, so one `except JsonProblem` catches both the decoder's and the adapters'.
    """


def field(raw: Any, key: str) -> Any:
    """`raw[key]`, or a `record:unparseable` BadRecord when the record is not an object or lacks the key."""
    if not isinstance(raw, dict):
        raise BadRecord(RECORD_UNPARSEABLE, f"record is a {type(raw).__name__}, not an object")
    if key not in raw:
        raise BadRecord(RECORD_UNPARSEABLE, f"missing field {key!r}")
    return raw[key]


def decode_json(value: Any, what: str) -> Any:
    """Decode a JSON string (sources store lists either as JSON text or as objects); other values pass through."""
    if not isinstance(value, str):
        return value
    try:
        return safejson.loads(value, what)
    except JsonProblem as e:  # invalid, too deep, huge numbers, lone surrogates: each under its own reason
        raise BadRecord(e.reason, str(e)) from None


def json_field(raw: Any, key: str) -> Any:
    """`raw[key]`, JSON-decoded when it is a string."""
    return decode_json(field(raw, key), key)


def text_field(raw: Any, key: str) -> str:
    value = field(raw, key)
    if not isinstance(value, str):
        raise BadRecord(RECORD_UNPARSEABLE, f"field {key!r} is a {type(value).__name__}, not a string")
    return value


def tool_list(value: Any) -> list[dict[str, Any]]:
    """Validate a tool list: a list of objects, each with a string `name`. Schemas are kept exactly as given."""
    if not isinstance(value, list) or not all(isinstance(t, dict) and isinstance(t.get("name"), str) for t in value):
        raise BadRecord(RECORD_UNPARSEABLE, f"tools must be a list of objects with a 'name': {str(value)[:80]}")
    return value


def call_list(value: Any, args_key: str = "arguments") -> list[ToolCall]:
    """Calls from a JSON list (or a single object) of `{"name", args_key}`; arguments may be a JSON string."""
    value = decode_json(value, "calls")
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, list):
        raise BadRecord(RECORD_UNPARSEABLE, f"calls must be a list, got {type(items).__name__}")
    calls = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or args_key not in item:
            raise BadRecord(RECORD_UNPARSEABLE, f"not a call with 'name' and {args_key!r}: {str(item)[:80]}")
        args = decode_json(item[args_key], f"arguments of {item['name']}")
        if not isinstance(args, dict):
            raise BadRecord(RECORD_UNPARSEABLE, f"arguments of {item['name']} are not an object: {str(args)[:80]}")
        calls.append(ToolCall(item["name"], args))
    return calls

"""Call strings for executors that `eval` them (BFCL's), built only from validated JSON calls. Never raises.

BFCL's multi-turn executor (`bfcl_eval.eval_checker.multi_turn_eval.multi_turn_utils.execute_multi_turn_func_call`)
runs each call *string* with `eval`. Model text must never reach it. `build_call` turns one parsed JSON call
`{"name": str, "arguments": {str: JSON value}}` into `name(key=repr(value), ...)` only when

- the name is a public method of the entry's environment (`methods`, from `public_methods`);
- every argument name is a Python identifier that is not a keyword and does not start with "_";
- every value is a JSON literal (str, int, finite float, bool, None, lists and str-keyed dicts of these, at most
  `MAX_DEPTH` deep), written with `repr`, which for these types is a Python literal;

and then checks its own output: `ast` must read exactly one call of that name whose keyword values
`ast.literal_eval` gives back unchanged. Anything else is refused with a reason code and runs nothing.

Example:
    >>> build_call({"name": "cd", "arguments": {"folder": "doc's"}}, {"cd", "ls"})
    BuiltCall(text='cd(folder="doc\\'s")', reason='ok')
    >>> build_call({"name": "__import__", "arguments": {"name": "os"}}, {"cd"}).reason
    'call:unknown_function'
    >>> build_call({"name": "cd", "arguments": {"folder": float("nan")}}, {"cd"}).reason
    'call:non_finite_number'

Reason codes: `ok`, `call:not_object`, `call:name_not_string`, `call:unknown_function`, `call:arguments_not_object`,
`call:bad_argument_name`, `call:value_not_json`, `call:non_finite_number`, `call:too_deep`, `call:not_literal`.
"""

from __future__ import annotations

import ast
import inspect
import keyword
import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

OK = "ok"
NOT_OBJECT = "call:not_object"
NAME_NOT_STRING = "call:name_not_string"
UNKNOWN_FUNCTION = "call:unknown_function"
ARGUMENTS_NOT_OBJECT = "call:arguments_not_object"
BAD_ARGUMENT_NAME = "call:bad_argument_name"
VALUE_NOT_JSON = "call:value_not_json"
NON_FINITE = "call:non_finite_number"
TOO_DEEP = "call:too_deep"
NOT_LITERAL = "call:not_literal"
REFUSAL_CODES = (NOT_OBJECT, NAME_NOT_STRING, UNKNOWN_FUNCTION, ARGUMENTS_NOT_OBJECT, BAD_ARGUMENT_NAME,
                 VALUE_NOT_JSON, NON_FINITE, TOO_DEEP, NOT_LITERAL)  # fmt: skip
MAX_DEPTH = 32


@dataclass(frozen=True)
class BuiltCall:
    """A call string safe to hand to an `eval`-based executor (`text`), or None and the refusal reason."""

    text: str | None
    reason: str


def public_methods(instances: Iterable[Any]) -> set[str]:
    """Names of the public bound methods of each instance: what BFCL's executor maps to an instance."""
    return {
        name
        for obj in instances
        for name, _ in inspect.getmembers(obj, predicate=inspect.ismethod)
        if not name.startswith("_")
    }


def _is_identifier(name: Any) -> bool:
    return isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_")


def _check_value(value: Any, depth: int = 0) -> str:
    """OK when `value` is a JSON literal our `repr` writes as a Python literal, else the reason code."""
    if depth > MAX_DEPTH:
        return TOO_DEEP
    if value is None or isinstance(value, (bool, str, int)):  # bool before int is irrelevant: both are fine
        return OK
    if isinstance(value, float):
        return OK if math.isfinite(value) else NON_FINITE  # repr(nan) is `nan`, a *name*, not a literal
    if isinstance(value, list):
        for item in value:
            if (reason := _check_value(item, depth + 1)) != OK:
                return reason
        return OK
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                return VALUE_NOT_JSON
            if (reason := _check_value(v, depth + 1)) != OK:
                return reason
        return OK
    return VALUE_NOT_JSON


def _round_trips(text: str, name: str, arguments: dict[str, Any]) -> bool:
    """`text` parses as exactly `name(k=literal, ...)` and the literals equal `arguments` (defence in depth)."""
    try:
        node = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError):
        return False
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name) or node.args:
        return False
    try:
        got = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords}
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return False
    return None not in got and got == arguments and list(got) == list(arguments)


def build_call(call: Any, methods: Collection[str]) -> BuiltCall:
    """The call string for one parsed call, or a refusal (see module docstring). Pure; never raises."""
    if not isinstance(call, dict):
        return BuiltCall(None, NOT_OBJECT)
    name, arguments = call.get("name"), call.get("arguments")
    if not isinstance(name, str):
        return BuiltCall(None, NAME_NOT_STRING)
    if not _is_identifier(name) or name not in methods:
        return BuiltCall(None, UNKNOWN_FUNCTION)
    if not isinstance(arguments, dict):
        return BuiltCall(None, ARGUMENTS_NOT_OBJECT)
    for key, value in arguments.items():
        if not _is_identifier(key):
            return BuiltCall(None, BAD_ARGUMENT_NAME)
        if (reason := _check_value(value)) != OK:
            return BuiltCall(None, reason)
    try:
        text = f"{name}({', '.join(f'{k}={v!r}' for k, v in arguments.items())})"
    except RecursionError:  # unreachable below MAX_DEPTH; kept so that the function never raises
        return BuiltCall(None, TOO_DEEP)
    if not _round_trips(text, name, arguments):
        return BuiltCall(None, NOT_LITERAL)
    return BuiltCall(text, OK)

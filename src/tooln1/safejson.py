"""JSON decoding that turns every hostile input into one `JsonProblem` with a reason code, never a crash later.

`json.loads` accepts text that breaks the stages after it: a lone surrogate escape (`"\\ud800"`) decodes to a
string no UTF-8 file can hold; nesting some thousands deep raises RecursionError (and a few hundred deep breaks
`json.dumps` or pyarrow further on); an integer of thousands of digits raises a bare ValueError (Python's 4,300-digit
limit). A byte that is not UTF-8 stops a text read altogether. `loads` and `check_value` refuse each of these
classes with a reason code, so one bad row is counted and skipped, not fatal:

| reason                 | what                                                                          |
|------------------------|-------------------------------------------------------------------------------|
| `text:not_utf8`        | the raw text held bytes that are not UTF-8 (read with `surrogateescape`)      |
| `text:lone_surrogate`  | a decoded string holds a lone surrogate (a `\\uD800`-`\\uDFFF` escape alone)  |
| `json:too_deep`        | arrays/objects nested deeper than MAX_DEPTH                                   |
| `json:number_too_large`| an integer of more than MAX_INT_DIGITS digits, or a float that overflows      |
| `json:invalid`         | not JSON at all (NaN and Infinity included: RFC 8259 has neither)             |

Example:
    >>> loads('{"a": [1, "x"]}')
    {'a': [1, 'x']}
    >>> try:
    ...     loads("[" * 5000 + "]" * 5000)
    ... except JsonProblem as e:
    ...     print(e.reason)
    json:too_deep
    >>> [(line, text) for line, text in split_array('[{"a": 1},\\n {"b": [2]}]')]
    [(1, '{"a": 1}'), (2, '{"b": [2]}')]
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

NOT_UTF8 = "text:not_utf8"
LONE_SURROGATE = "text:lone_surrogate"
TOO_DEEP = "json:too_deep"
NUMBER_TOO_LARGE = "json:number_too_large"
INVALID_JSON = "json:invalid"
REASONS = (NOT_UTF8, LONE_SURROGATE, TOO_DEEP, NUMBER_TOO_LARGE, INVALID_JSON)

# Real tool schemas and call arguments nest a dozen levels at most; 100 leaves room and keeps every later
# recursive stage (json.dumps, pyarrow, the reward's canonical keys) far from Python's 1,000-frame limit.
MAX_DEPTH = 100
# Longer than any 64-bit or decimal-float literal a tool argument needs; far below Python's 4,300-digit limit.
MAX_INT_DIGITS = 100

_INT_BOUND = 10**MAX_INT_DIGITS
_SURROGATE = re.compile("[\ud800-\udfff]")
# Tokens that matter for finding where an array element ends: a whole string (escapes included) or a bracket.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},]', re.DOTALL)


class JsonProblem(ValueError):
    """Text or a value refused by this module; `reason` is one of REASONS (subclasses add their own codes)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise JsonProblem(NUMBER_TOO_LARGE, f"integer literal of {digits} digits (limit {MAX_INT_DIGITS})")
    return int(text)


def decode_bytes(data: bytes) -> str:
    """UTF-8 text of `data`; bytes that are not UTF-8 become lone surrogates, which `loads` reports as NOT_UTF8."""
    return data.decode("utf-8", errors="surrogateescape")


def _at(what: str, detail: object) -> str:
    return f"{what}: {detail}" if what else str(detail)


def _refuse_constant(name: str) -> Any:
    raise JsonProblem(INVALID_JSON, f"{name} is not JSON (RFC 8259 has no NaN or Infinity)")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (math.inf, -math.inf):
        raise JsonProblem(NUMBER_TOO_LARGE, f"number {text[:40]} overflows a float")
    return value


_DECODER = json.JSONDecoder(parse_int=_bounded_int, parse_float=_finite_float, parse_constant=_refuse_constant)


def raw_decode(text: str, start: int = 0, what: str = "value") -> tuple[Any, int]:
    """`json.JSONDecoder.raw_decode` (one value from `text[start:]`, and where it ends) with the checks of `loads`."""
    if not text.isascii() and (m := _SURROGATE.search(text, start)):
        raise JsonProblem(NOT_UTF8, _at(what, f"byte {ord(m.group()) - 0xDC00:#04x} at char {m.start()} is not UTF-8"))
    try:
        value, end = _DECODER.raw_decode(text, start)
    except JsonProblem as e:
        raise JsonProblem(e.reason, _at(what, e)) from None
    except RecursionError:
        raise JsonProblem(TOO_DEEP, _at(what, "nested too deep to decode")) from None
    except ValueError as e:  # JSONDecodeError, and int() refusals that slip past the digit bound
        raise JsonProblem(INVALID_JSON, _at(what, e)) from None
    check_value(value, what)
    return value, end


def loads(text: str, what: str = "value") -> Any:
    """`json.loads` that raises `JsonProblem` (never RecursionError or a bare ValueError) and checks the result."""
    start = len(text) - len(text.lstrip())
    value, end = raw_decode(text, start, what)
    if text[end:].strip():
        raise JsonProblem(INVALID_JSON, _at(what, f"Extra data: char {end}"))
    return value


def check_value(value: Any, what: str = "value") -> None:
    """Raise `JsonProblem` if a decoded value nests deeper than MAX_DEPTH, holds a lone surrogate or a huge int.

    Iterative (an explicit stack), so it is itself safe on any depth.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and _SURROGATE.search(item):
                raise JsonProblem(LONE_SURROGATE, _at(what, f"a string holds a lone surrogate: {ascii(item[:60])}"))
        elif isinstance(item, dict | list | tuple):
            if depth >= MAX_DEPTH:
                raise JsonProblem(TOO_DEEP, _at(what, f"nested deeper than {MAX_DEPTH} levels"))
            children = list(item.keys()) + list(item.values()) if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) >= _INT_BOUND:
            raise JsonProblem(NUMBER_TOO_LARGE, _at(what, f"integer of more than {MAX_INT_DIGITS} digits"))


def split_array(text: str) -> Iterator[tuple[int, str]]:
    """`(line, element text)` for each element of a top-level JSON array, without decoding any element.

    A bad element (too deep, a huge number, a lone surrogate) then fails alone when it is decoded, with its line,
    instead of failing the whole file. Raises `JsonProblem` (INVALID_JSON) when `text` is not an array or its
    brackets do not balance. Strings are skipped whole by a regular expression, so this stays linear and fast.
    """
    first = len(text) - len(text.lstrip())
    if not text.startswith("[", first):
        raise JsonProblem(INVALID_JSON, "not a JSON array (the text does not start with '[')")
    depth = 0
    piece_start = first + 1  # just after the last separator at depth 1: where the next element begins
    line, line_pos = 1, 0
    for m in _TOKEN.finditer(text, first):
        tok = m.group()
        if tok[0] == '"' or (tok == "," and depth > 1):
            continue
        if tok in "[{":
            depth += 1
            continue
        if tok in "]}":
            depth -= 1
            if depth < 0:
                raise JsonProblem(INVALID_JSON, f"unbalanced {tok!r} at char {m.start()}")
            if depth > 0:
                continue
        raw = text[piece_start : m.start()]
        piece = raw.strip()
        if piece:
            at = piece_start + len(raw) - len(raw.lstrip())
            line += text.count("\n", line_pos, at)
            line_pos = at
            yield line, piece
        elif tok == "," or line_pos:  # `[1,,2]` or `[1,]`; only `[]` may have an empty piece
            raise JsonProblem(INVALID_JSON, f"an empty array element before char {m.start()}")
        piece_start = m.end()
        if depth == 0:
            if text[m.end() :].strip():
                raise JsonProblem(INVALID_JSON, f"extra data after the array at char {m.end()}")
            return
    raise JsonProblem(INVALID_JSON, "the array is not closed (unbalanced brackets or an unterminated string)")

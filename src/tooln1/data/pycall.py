"""Parse ToolACE's Python-call syntax, `[Name With Spaces(key=value, ...), Other(...)]`, without `eval`.

A hand-written lexer walks the text once. Names run up to `(` and may hold spaces and `. _ ? | - /` (anything
but brackets, quotes, `,` and `=`). Each value's extent is found by scanning: quoted strings (single, double or
triple quotes, backslash escapes, `r`/`b`/`u` prefixes) are skipped whole, and `( [ {` nest, so a value ends at
the first `,` or `)` outside strings and brackets. Only that value text is handed to `ast.literal_eval` (literals
only, never code), with `json.loads` as the fallback for JSON spellings such as `true`, `null` or
`{"a": false}`.

Example:
    >>> parse_python_calls('[Market Trends API(trend_type="MARKET_INDEXES", country="us")]')
    [ToolCall(name='Market Trends API', arguments={'trend_type': 'MARKET_INDEXES', 'country': 'us'})]
    >>> parse_python_calls('[f(q="a), b", n=[1, (2, 3)], ok=true)]')[0].arguments
    {'q': 'a), b', 'n': [1, [2, 3]], 'ok': True}

Stricter than the official regex parser (method §1.4 step 3), on purpose: it handles `)` and `,` inside values,
and where the official code silently kept unparseable values as raw strings or dropped positional arguments,
this raises `CallSyntaxError`, so the build counts the record as `call:unparseable` instead of training on a
guess.
"""

from __future__ import annotations

import ast
import json
import math
from typing import Any

from tooln1.types import ToolCall

NAME_STOP = set("()[]{},=\"'")
OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = set(OPENERS.values())


class CallSyntaxError(ValueError):
    """The text is not a well-formed Python-style call list."""


def _json_value(value: Any, where: str) -> Any:
    """Map a Python literal to its JSON value (tuple -> list); reject what JSON cannot hold."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CallSyntaxError(f"{where}: non-finite number {value}")
        return value
    if isinstance(value, (list, tuple)):
        return [_json_value(v, where) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise CallSyntaxError(f"{where}: object keys must be strings")
        return {k: _json_value(v, where) for k, v in value.items()}
    raise CallSyntaxError(f"{where}: {type(value).__name__} is not a JSON value")


def literal_value(text: str, where: str = "value") -> Any:
    """The JSON value of one literal: Python syntax first (`ast.literal_eval`), then JSON (`true`, `null`)."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        try:
            value = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            raise CallSyntaxError(f"{where}: not a literal: {text[:60]}") from None
    return _json_value(value, where)


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, what: str) -> CallSyntaxError:
        return CallSyntaxError(f"{what} at offset {self.pos}: {self.text[max(0, self.pos - 20) : self.pos + 20]!r}")

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip_ws()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.error(f"expected {char!r}")
        self.pos += 1

    def word(self, what: str) -> str:
        """A name or a key: everything up to the next stop character, stripped."""
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in NAME_STOP:
            self.pos += 1
        word = self.text[start : self.pos].strip()
        if not word:
            raise self.error(f"expected {what}")
        return word

    def skip_string(self) -> None:
        quote = self.text[self.pos]
        delim = quote * 3 if self.text.startswith(quote * 3, self.pos) else quote
        self.pos += len(delim)
        while self.pos < len(self.text):
            if self.text[self.pos] == "\\":
                self.pos += 2
            elif self.text.startswith(delim, self.pos):
                self.pos += len(delim)
                return
            else:
                self.pos += 1
        raise self.error("unterminated string")

    def value_text(self) -> str:
        """The source text of one value: up to the next `,` or `)` outside strings and brackets."""
        start, stack = self.pos, []
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c in "'\"":
                self.skip_string()
                continue
            if not stack and c in ",)":
                break
            if c in OPENERS:
                stack.append(OPENERS[c])
            elif c in CLOSERS and (not stack or stack.pop() != c):
                raise self.error(f"unbalanced {c!r}")
            self.pos += 1
        text = self.text[start : self.pos].strip()
        if stack or self.pos >= len(self.text) or not text:
            raise self.error("expected a value")
        return text

    def call(self) -> ToolCall:
        name = self.word("a function name")
        self.expect("(")
        args: dict[str, Any] = {}
        while self.peek() != ")":
            key = self.word("an argument name (positional arguments are not supported)")
            if key in args:
                raise self.error(f"duplicate argument {key!r}")
            if self.peek() != "=":
                raise self.error(f"positional or malformed argument {key!r} (expected '=')")
            self.pos += 1
            self.skip_ws()
            args[key] = literal_value(self.value_text(), f"{name}.{key}")
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != ")":
                raise self.error("expected ',' or ')'")
        self.pos += 1
        return ToolCall(name, args)


def looks_like_calls(text: str) -> bool:
    """The official test for a call turn: the stripped text starts with `[` and ends with `]` (§1.4 step 3)."""
    t = text.strip()
    return len(t) > 2 and t[0] == "[" and t[-1] == "]"


def parse_python_calls(text: str) -> list[ToolCall]:
    """All calls of a `[f(a=1), g(b="x")]` list, in order. Raises `CallSyntaxError` on anything else."""
    lex = _Lexer(text.strip())
    lex.expect("[")
    calls = [lex.call()]
    while lex.peek() == ",":
        lex.pos += 1
        calls.append(lex.call())
    lex.expect("]")
    if lex.peek():
        raise lex.error("text after the call list")
    return calls

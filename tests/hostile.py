"""Hostile xLAM-format rows, one table per class of bad input, and a writer that spreads them through good rows.

Each bad row is a raw line (bytes) with the reason `tooln1 data build` must count it under. The classes are the
ones that used to abort a whole build: bytes that are not UTF-8, lone surrogate escapes, nesting thousands deep
(as a field, or inside a field that holds a JSON string), integer literals of thousands of digits.

Example:
    from hostile import BAD_ROWS, write_source
    expected = write_source(tmp_path / "rows.jsonl", good=500)   # {line: reason} of every bad row written
"""

from __future__ import annotations

import json
from pathlib import Path

from tooln1.data.synth import generate

DEEP = 5_000  # far past Python's recursion limit: json.loads itself raises RecursionError
SHALLOW_DEEP = 150  # json.loads copes, but later recursive stages would not have; over the depth bound
HUGE = "9" * 5_000  # past Python's 4,300-digit int conversion limit
LONG = "9" * 200  # under Python's limit, over ours


def _row(query: str = "what is the weather?", tools: str | None = None, answers: str | None = None) -> str:
    """An xLAM hub-format row as JSON text, with `tools` / `answers` given as raw JSON text when set."""
    t = tools if tools is not None else json.dumps(json.dumps([{"name": "f", "parameters": {}}]))
    a = answers if answers is not None else json.dumps(json.dumps([{"name": "f", "arguments": {"x": 1}}]))
    return f'{{"query": {json.dumps(query)}, "tools": {t}, "answers": {a}}}'


def _answers_with(value: str) -> str:
    """`answers` as a JSON string whose single call has argument `x` = `value` (raw JSON text)."""
    return json.dumps(f'[{{"name": "f", "arguments": {{"x": {value}}}}}]')


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


GOOD = _row().encode()
# reason -> rows (bytes, one line each) that must be dropped under that reason.
BAD_ROWS: dict[str, list[bytes]] = {
    "text:not_utf8": [
        GOOD.replace(b"weather", b"weath\xffer"),  # a byte no UTF-8 text holds
        GOOD.replace(b"weather", b"weath\xc3"),  # a truncated two-byte sequence
        GOOD.replace(b"weather", b"caf\xe9"),  # Latin-1 text
        GOOD.replace(b"weather", b"\xed\xa0\x80"),  # a surrogate encoded as UTF-8 (CESU-8), invalid UTF-8
        GOOD.replace(b"weather", b"\xf4\x90\x80\x80"),  # past U+10FFFF
    ],
    "text:lone_surrogate": [
        # json.dumps writes a lone surrogate as a `\uD800` escape, as a careless producer would.
        _row(query="a \ud800 b").encode(),  # a high surrogate alone, in a field
        _row(query="\udfff").encode(),  # a low surrogate alone
        _row(query="\ude00\ud83d").encode(),  # a pair in the wrong order
        _row(answers=_answers_with(json.dumps("\ud800"))).encode(),  # inside a field that holds a JSON string
        # in a tool name, inside a field that holds a JSON string
        _row(tools=json.dumps(json.dumps([{"name": "\udc00", "parameters": {}}]))).encode(),
    ],
    "json:too_deep": [
        _row(tools=_nested(DEEP)).encode(),  # as a field
        _row(answers=json.dumps(_nested(DEEP))).encode(),  # inside a field that holds a JSON string
        _row(answers=_answers_with(_nested(DEEP))).encode(),  # in a call's arguments, inside a string
        _row(tools=_nested(SHALLOW_DEEP)).encode(),  # decodable, but deeper than the bound
        _row(answers=_answers_with('{"a": ' * SHALLOW_DEEP + "1" + "}" * SHALLOW_DEEP)).encode(),  # objects
    ],
    "json:number_too_large": [
        _row(tools=HUGE).encode(),  # as a field
        _row(answers=_answers_with(HUGE)).encode(),  # inside a field that holds a JSON string
        _row(answers=_answers_with("-" + HUGE)).encode(),  # negative
        _row(answers=_answers_with(LONG)).encode(),  # under Python's limit, over ours
        _row(answers=_answers_with("1e999")).encode(),  # a float literal that overflows to infinity
    ],
}
REASONS = tuple(BAD_ROWS)


def good_rows(n: int, seed: int = 0) -> list[bytes]:
    """`n` distinct valid xLAM hub-format rows from the synthetic catalogue."""
    rows = []
    for s in generate(n, seed=seed):
        row = {"query": s.messages[0]["content"], "tools": json.dumps(s.tools),
               "answers": json.dumps([c.to_dict() for c in s.gold])}  # fmt: skip
        rows.append(json.dumps(row).encode())
    return rows


def write_source(path: Path, good: int, array: bool = False) -> dict[int, str]:
    """Write `good` valid rows with every BAD_ROWS row spread evenly through them, as JSONL or (`array`) a JSON
    array with one element per line. Returns {line number: reason} of the bad rows."""
    bad = [(reason, row) for reason, rows in BAD_ROWS.items() for row in rows]
    rows = good_rows(good)
    step = max(1, len(rows) // (len(bad) + 1))
    out: list[tuple[str | None, bytes]] = [(None, r) for r in rows]
    for k, (reason, row) in enumerate(bad):
        out.insert(min(len(out), (k + 1) * step + k), (reason, row))
    expected: dict[int, str] = {}
    first_line = 2 if array else 1
    lines = []
    for i, (reason, row) in enumerate(out):
        if reason is not None:
            expected[first_line + i] = reason
        lines.append(row + (b"," if array and i < len(out) - 1 else b""))
    body = b"\n".join(lines)
    path.write_bytes(b"[\n" + body + b"\n]\n" if array else body + b"\n")
    return expected

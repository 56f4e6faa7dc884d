"""Tests for `tooln1.data.pycall`: ToolACE's Python-call syntax, parsed without eval.

Example:
    .venv/bin/pytest tests/data/test_data_pycall.py -q
"""

from __future__ import annotations

import pytest

from tooln1.data.pycall import CallSyntaxError, literal_value, looks_like_calls, parse_python_calls
from tooln1.types import ToolCall


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param('[Market Trends API(trend_type="MARKET_INDEXES", country="us")]',
                     [ToolCall("Market Trends API", {"trend_type": "MARKET_INDEXES", "country": "us"})],
                     id="name-with-spaces"),
        pytest.param('[f(q="a), b")]', [ToolCall("f", {"q": "a), b"})], id="value-holds-paren-and-comma"),
        pytest.param("[f(q='it''s', r=\"x\\\")\")]", [ToolCall("f", {"q": "its", "r": 'x")'})],
                     id="adjacent-strings-and-escaped-quote"),
        pytest.param('[f(n=[1, (2, 3)], d={"k": [4, 5]})]', [ToolCall("f", {"n": [1, [2, 3]], "d": {"k": [4, 5]}})],
                     id="nested-containers-tuple-to-list"),
        pytest.param("[f(a=-1.5, b=True, c=None, d=1e3)]", [ToolCall("f", {"a": -1.5, "b": True, "c": None,
                                                                             "d": 1000.0})], id="python-literals"),
        pytest.param('[f(ok=true, v=null, o={"x": false})]',
                     [ToolCall("f", {"ok": True, "v": None, "o": {"x": False}})], id="json-literals-fallback"),
        pytest.param("[ f ( ) , g.v2-beta?|x/y(a = 'x' , ) ]",
                     [ToolCall("f", {}), ToolCall("g.v2-beta?|x/y", {"a": "x"})],
                     id="whitespace-empty-args-trailing-comma-odd-name"),
        pytest.param('[f(s="""tri"ple""")]', [ToolCall("f", {"s": 'tri"ple'})], id="triple-quoted"),
        pytest.param("[f(x=1), f(x=2)]", [ToolCall("f", {"x": 1}), ToolCall("f", {"x": 2})], id="parallel-same-name"),
    ],
)  # fmt: skip
def test_parses(text: str, expected: list[ToolCall]) -> None:
    assert parse_python_calls(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('[f("positional")]', id="positional-argument"),
        pytest.param("[f(x=1, x=2)]", id="duplicate-argument"),
        pytest.param("[f(x=1)", id="missing-closing-bracket"),
        pytest.param("[f(x=1)] extra", id="text-after-list"),
        pytest.param('[f(x="unterminated)]', id="unterminated-string"),
        pytest.param("[f(x=us)]", id="bare-word-value"),
        pytest.param("[f(x=__import__('os').system('id'))]", id="code-is-not-a-literal"),
        pytest.param("[f(x=[1, 2)]", id="unbalanced-brackets"),
        pytest.param("[f(x={1, 2})]", id="set-is-not-json"),
        pytest.param("[f(x={1: 2})]", id="non-string-key"),
        pytest.param("[f(x=float('nan'))]", id="call-value"),
        pytest.param("[(x=1)]", id="no-name"),
        pytest.param("[f(x=)]", id="empty-value"),
    ],
)
def test_rejects(text: str) -> None:
    with pytest.raises(CallSyntaxError):
        parse_python_calls(text)


def test_never_evaluates_code(tmp_path) -> None:
    marker = tmp_path / "pwned"
    with pytest.raises(CallSyntaxError):
        parse_python_calls(f"[f(x=open({str(marker)!r}, 'w'))]")
    assert not marker.exists()


def test_literal_value_rejects_non_finite() -> None:
    with pytest.raises(CallSyntaxError):
        literal_value("1e999")


@pytest.mark.parametrize(("text", "is_call"), [("[f(x=1)]", True), ("  [a(b=1)]\n", True), ("Hello", False),
                                               ("[]", False), ("[note] done", False)])  # fmt: skip
def test_looks_like_calls(text: str, is_call: bool) -> None:
    assert looks_like_calls(text) is is_call

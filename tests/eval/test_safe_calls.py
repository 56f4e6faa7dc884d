"""`build_call`: a table of literal calls with the string or refusal each must give, and a Hypothesis fuzz.

The fuzz property: for ANY parsed call (any names, any JSON values, any key strings), `build_call` either
refuses, or returns a string that `ast` reads as exactly one call of an allowed name whose keyword values are
literals equal to the given arguments: there is nothing else in it that could run.

Run: .venv/bin/pytest tests/eval/test_safe_calls.py
"""

from __future__ import annotations

import ast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import CALLS, JSON_VALUE

from tooln1.eval.safe_calls import REFUSAL_CODES, build_call, public_methods

METHODS = {"cd", "mkdir", "echo", "sort"}

TABLE = [
    ({"name": "cd", "arguments": {"folder": "document"}}, "cd(folder='document')", "ok"),
    ({"name": "sort", "arguments": {}}, "sort()", "ok"),
    ({"name": "echo", "arguments": {"content": "a'b\"c\\", "n": 5, "x": 1.5, "ok": True, "none": None}},
     "echo(content='a\\'b\"c\\\\', n=5, x=1.5, ok=True, none=None)", "ok"),
    ({"name": "mkdir", "arguments": {"d": [1, {"k": [True, None]}], "e": {}}},
     "mkdir(d=[1, {'k': [True, None]}], e={})", "ok"),
    ({"name": "cd", "arguments": {"folder": "x'); __import__('os').system('id'); ('"}},
     "cd(folder=\"x'); __import__('os').system('id'); ('\")", "ok"),  # a string literal, nothing runs
    ({"name": "__import__", "arguments": {"name": "os"}}, None, "call:unknown_function"),
    ({"name": "cd(folder='a'); __import__('os').system('id') #", "arguments": {}}, None, "call:unknown_function"),
    ({"name": "os.system", "arguments": {"command": "id"}}, None, "call:unknown_function"),
    ({"name": "_load_scenario", "arguments": {}}, None, "call:unknown_function"),
    ({"name": "rm", "arguments": {"file_name": "a"}}, None, "call:unknown_function"),  # not this entry's method
    ({"name": 5, "arguments": {}}, None, "call:name_not_string"),
    ({"name": "cd", "arguments": [1]}, None, "call:arguments_not_object"),
    ({"name": "cd", "arguments": {"folder=__import__('os'),x": "a"}}, None, "call:bad_argument_name"),
    ({"name": "cd", "arguments": {"class": "a"}}, None, "call:bad_argument_name"),
    ({"name": "cd", "arguments": {"__class__": "a"}}, None, "call:bad_argument_name"),
    ({"name": "cd", "arguments": {"folder": float("inf")}}, None, "call:non_finite_number"),
    ({"name": "cd", "arguments": {"folder": [float("nan")]}}, None, "call:non_finite_number"),
    ({"name": "cd", "arguments": {"folder": (1, 2)}}, None, "call:value_not_json"),
    ({"name": "cd", "arguments": {"folder": {1: "a"}}}, None, "call:value_not_json"),
    ({"name": "cd", "arguments": {"folder": object()}}, None, "call:value_not_json"),
    ("cd(folder='a')", None, "call:not_object"),
]


@pytest.mark.parametrize(("call", "text", "reason"), TABLE)
def test_table(call, text, reason):
    built = build_call(call, METHODS)
    assert (built.text, built.reason) == (text, reason)


def test_too_deep_is_refused():
    value: list = []
    for _ in range(40):
        value = [value]
    assert build_call({"name": "cd", "arguments": {"folder": value}}, METHODS).reason == "call:too_deep"


def test_public_methods_are_bound_public_methods_only():
    class Env:
        def ls(self):
            return 1

        def _hidden(self):
            return 2

        attr = 3

    assert public_methods([Env()]) == {"ls"}


NAMES = st.sampled_from(sorted(METHODS)) | st.text(max_size=12)
FUZZ_CALLS = CALLS | st.lists(st.fixed_dictionaries({
    "name": NAMES, "arguments": st.dictionaries(st.text(max_size=8) | st.sampled_from(["a", "b_1"]), JSON_VALUE,
                                                max_size=4)}), max_size=3)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(calls=FUZZ_CALLS)
def test_any_call_is_refused_or_exactly_one_literal_call(calls):
    for call in calls:
        built = build_call(call, METHODS)
        if built.text is None:
            assert built.reason in REFUSAL_CODES
            continue
        node = ast.parse(built.text, mode="eval").body
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in METHODS
        assert not node.args and [kw.arg for kw in node.keywords] == list(call["arguments"])
        assert {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords} == call["arguments"]

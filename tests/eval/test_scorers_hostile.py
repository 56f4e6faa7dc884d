"""Every scorer (API-Bank, BFCL, held-out) scores any model output as a verdict with a reason; none raises.

A model can write argument values no dataset holds: a string that reads as a set of lists (`{[1], [2]}`, which
Python cannot build: unhashable), nesting hundreds or thousands deep, numbers of thousands of digits, lone
surrogates, wrong JSON types in every slot. Each such completion must score as wrong with a reason code, and the
run goes on. The same table runs through the three scorers; Hypothesis adds random literals for API-Bank.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tooln1.eval import apibank, bfcl, heldout
from tooln1.eval.runner import EvalItem
from tooln1.types import Sample, ToolCall

GOLD = ToolCall("AddMeeting", {"token": "a1", "attendees": "['John', 'Jane']"})
SAMPLE = Sample("h-0", "apibank:level-1", [{"name": "AddMeeting"}], [{"role": "user", "content": "meet"}], [GOLD])
CASE = apibank.ApiBankCase(EvalItem("h-0", "api_call", SAMPLE), GOLD, "f.jsonl", 0)


def _call(arguments: str, name: str = '"AddMeeting"') -> str:
    return f'<think>t</think><tool_call>[{{"name": {name}, "arguments": {arguments}}}]</tool_call>'


def _attendees(value: object) -> str:
    return _call(json.dumps({"token": "a1", "attendees": value}))


# Argument values (as Python literals inside a string, as API-Bank's gold writes them) that broke the scorer or
# might: literal_eval builds them or refuses them in every way it can.
LITERALS = [
    "{[1], [2]}", "{[1]: 2}", "{'a', 'b'}", "{1, 'a', (2,)}", "{frozenset(): 1}", "{{}}", "[{[]}]", "{(1, [2]): 3}",
    "[" * 300 + "]" * 300, "[" * 5000, "{'a': " * 300 + "1" + "}" * 300, "[" + "9" * 5000 + "]", "[1e999, -1e999]",
    "[__import__('os')]", "{'a': print}", "[0x10, 0o7, 1_000, 1j]", "[b'x', ...]", "[None, True, 'x'", "{'k'",
]  # fmt: skip
DEEP_JSON = [200, 500, 900, 990, 5000]
COMPLETIONS = (
    [_attendees(v) for v in LITERALS]
    + [_attendees(json.loads("[" * d + "]" * d)) if d < 900 else _call('{"token": "a1", "attendees": '
       + "[" * d + "]" * d + "}") for d in DEEP_JSON]
    + [
        _call('{"token": "a1", "attendees": ' + "9" * 5000 + "}"),  # past Python's int-conversion limit
        _call('{"token": "a1", "attendees": 1e999}'),
        _call('{"token": "\\ud800", "attendees": "\\udfff"}'),  # lone surrogates
        _call('{"token": NaN, "attendees": Infinity}'),
        _call("[1, 2]"), _call('"a=1"'), _call("null"), _call("{}"), _call('{"token": {"a1": []}, "attendees": []}'),
        _call("{}", name="[1]"), _call("{}", name="null"), _call("{}", name='{"a": 1}'), _call("{}", name="5"),
        "<tool_call>" + "[" * 5000 + "</tool_call>",
        "<tool_call>[" + '{"name": "AddMeeting"},' * 2000 + "]</tool_call>",
        "<tool_call>5</tool_call>", "<tool_call>\"x\"</tool_call>", "\x00\udcff\ud800", "",
    ]
)  # fmt: skip


@pytest.mark.parametrize("completion", COMPLETIONS, ids=range(len(COMPLETIONS)))
def test_api_bank_scores_every_hostile_output_as_wrong_with_a_reason(completion: str) -> None:
    verdict = apibank.score(CASE, completion)
    assert verdict.correct is False and verdict.error


@pytest.mark.parametrize("completion", COMPLETIONS, ids=range(len(COMPLETIONS)))
def test_held_out_scores_every_hostile_output_as_wrong_with_a_reason(completion: str) -> None:
    verdict = heldout.score(EvalItem("h-0", "synth", SAMPLE), completion)
    assert verdict.correct is False and verdict.error


@pytest.fixture(scope="module")
def bfcl_cases() -> list[bfcl.BfclCase]:
    return [bfcl.case_for_id("simple_python_0"), bfcl.case_for_id("parallel_0")]


def test_bfcl_scores_every_hostile_output_with_a_reason(bfcl_cases: list[bfcl.BfclCase]) -> None:
    for case in bfcl_cases:
        name = json.dumps(case.answer[0] and next(iter(case.answer[0])))
        for completion in [*COMPLETIONS, *(c.replace('"AddMeeting"', name) for c in COMPLETIONS)]:
            verdict = bfcl.score(case, completion)
            assert verdict.correct is False and verdict.error, (case.id, completion[:80])


def test_the_set_of_lists_that_stopped_a_run_scores_as_a_value_mismatch() -> None:
    assert apibank.normalize("{[1], [2]}") == "{[1], [2]}"  # not a Python value: compared as text
    assert apibank.normalize("{'b', 'a'}") == apibank.normalize("{'a', 'b'}")  # a set: order-free
    assert apibank.score(CASE, _attendees("{[1], [2]}")).error == apibank.ARG_VALUE_MISMATCH
    deep = _attendees(json.loads("[" * 900 + "]" * 900))
    assert apibank.score(CASE, deep).error in (apibank.UNSCORABLE, apibank.ARG_VALUE_MISMATCH)
    assert apibank.score(CASE, _attendees(["John", "Jane"])).correct  # the real answer still scores


PY_LITERAL = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8) | st.binary(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner) | st.frozensets(st.integers(), max_size=3)
    | st.sets(st.integers(), max_size=3)
    | st.dictionaries(st.text(max_size=4) | st.integers(), inner, max_size=3),
    max_leaves=12,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(value=PY_LITERAL.map(repr) | st.text(alphabet="[]{}(),:'\" 1a", max_size=40))
def test_api_bank_never_raises_on_random_literals(value: str) -> None:
    verdict = apibank.score(CASE, _attendees(value))
    assert verdict.correct is False and verdict.error

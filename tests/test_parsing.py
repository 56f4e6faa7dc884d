"""The completion parser (method §3.2 steps 1-6): think text, call list, reason codes; fuzzed to never raise.

Example:
    $ .venv/bin/pytest tests/test_parsing.py -q

The fuzz tests compare the parser with the literal official rules on arbitrary text: the last match of the
non-greedy DOTALL regex `<tool_call>(.*?)</tool_call>` is the payload, and the think check is the substring check.
"""

from __future__ import annotations

import json
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies import TAG_SOUP, mutated
from tooln1.parsing import (
    INVALID_JSON,
    MISSING_ARGUMENTS,
    MISSING_NAME,
    MISSING_THINK,
    NO_TOOL_CALL,
    NOT_LIST,
    NOT_OBJECT,
    OK,
    parse_completion,
)
from tooln1.prompt import canonical_completion

# The official extraction, written out here as the oracle (method §3.2 step 2).
OFFICIAL_BLOCK_RE = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL)
OFFICIAL_THINK_RE = re.compile(r"<think>(.*?)</think>", re.DOTALL)


def test_docstring_example():
    p = parse_completion('<think>easy</think><tool_call>{"name": "f", "arguments": {"x": 1}}</tool_call>')
    assert (p.calls, p.think, p.has_think, p.error, p.reason) == ([{"name": "f", "arguments": {"x": 1}}], "easy", True, None, OK)


@pytest.mark.parametrize(
    ("text", "think"),
    [("<think>  a\nb  </think><tool_call>[]</tool_call>", "a\nb"),
     ("x<think>first</think> y <think>second</think>", "first"),
     ("<think></think>", ""),
     ("<think>outer <think>inner</think>", "outer <think>inner"),
     ("</think> reversed <think>", None),  # both tags occur (the official check passes) but no block
     ("<think>open only", None),
     ("no tags", None)],
)  # fmt: skip
def test_think_text(text, think):
    p = parse_completion(text)
    assert p.think == think
    assert p.has_think == ("<think>" in text and "</think>" in text)


@pytest.mark.parametrize(
    ("text", "calls", "error", "reason"),
    [("<think>t</think><tool_call>[]</tool_call>", [], None, OK),
     ("<tool_call>[]</tool_call>", [], None, MISSING_THINK),
     ("<think>t</think>", None, NO_TOOL_CALL, NO_TOOL_CALL),
     ("plain", None, NO_TOOL_CALL, NO_TOOL_CALL),  # the payload codes come before the think check
     ("<tool_call>[</tool_call>", None, INVALID_JSON, INVALID_JSON),
     ("<think>t</think><tool_call>{}</tool_call>", None, MISSING_NAME, MISSING_NAME),  # {} -> [{}]
     ("<think>t</think><tool_call>{\"name\": \"f\"}</tool_call>", None, MISSING_ARGUMENTS, MISSING_ARGUMENTS),
     ("<think>t</think><tool_call>[[]]</tool_call>", None, NOT_OBJECT, NOT_OBJECT),
     ("<think>t</think><tool_call>1.5</tool_call>", None, NOT_LIST, NOT_LIST),
     ("<tool_call>1.5</tool_call>", None, NOT_LIST, MISSING_THINK),  # official order: think before structure
     ("<think>t</think><tool_call>\"{\\\"name\\\": \\\"f\\\", \\\"arguments\\\": []}\"</tool_call>",
      [{"name": "f", "arguments": []}], None, OK)],  # structure needs the keys only; value types come later
)  # fmt: skip
def test_calls_error_and_reason(text, calls, error, reason):
    p = parse_completion(text)
    assert (p.calls, p.error, p.reason) == (calls, error, reason)


def test_last_block_and_first_open_tag():
    p = parse_completion('<tool_call>[{"name": "a", "arguments": {}}]</tool_call><tool_call>[{"name": "b", "arguments": {}}]</tool_call>')
    assert p.calls == [{"name": "b", "arguments": {}}]
    # Non-greedy from the first open tag: the payload is 'A<tool_call>[]', not '[]'.
    assert parse_completion("<tool_call>A<tool_call>[]</tool_call>").error == INVALID_JSON
    # A stray close tag before the block does not matter; one after the last block does not start a block.
    assert parse_completion("</tool_call><tool_call>[]</tool_call></tool_call>").calls == []


@pytest.mark.parametrize(
    "payload",
    ["[" * 100_000 + "]" * 100_000,  # deep nesting: RecursionError inside json
     '[{"name": "f", "arguments": {"x": ' + "9" * 5000 + "}}]",  # int longer than Python's digit limit
     '"' + "\\" * 3 + '"',  # an escaped quote then nothing: unterminated string
     "\x00",
     "\ufeff[]"],  # a byte-order mark: json.loads refuses it, so do we
)  # fmt: skip
def test_hostile_payloads_do_not_raise(payload):
    p = parse_completion(f"<think>t</think><tool_call>{payload}</tool_call>")
    assert p.calls is None and p.error == INVALID_JSON


def test_non_standard_json_numbers_are_parsed_like_json_loads():
    # Python's json (used by the official code) accepts NaN and Infinity; so do we.
    p = parse_completion('<think>t</think><tool_call>[{"name": "f", "arguments": {"x": NaN, "y": -Infinity}}]</tool_call>')
    assert p.reason == OK and math.isnan(p.calls[0]["arguments"]["x"]) and p.calls[0]["arguments"]["y"] == -math.inf


def test_lone_surrogate_and_unicode():
    p = parse_completion('<think>ü</think><tool_call>[{"name": "f", "arguments": {"s": "\\ud800", "t": "日本"}}]</tool_call>')
    assert p.calls == [{"name": "f", "arguments": {"s": "\ud800", "t": "日本"}}] and p.think == "ü"


# --- fuzzing ------------------------------------------------------------------------------------------------
SIMPLE_CALLS = st.lists(
    st.fixed_dictionaries({"name": st.sampled_from(["f", "get_weather", "ü"]),
                           "arguments": st.dictionaries(st.sampled_from(["x", "city"]), st.integers() | st.text(max_size=5) | st.none(), max_size=2)}),
    max_size=3,
)  # fmt: skip
VALID = st.builds(canonical_completion, SIMPLE_CALLS, st.text(max_size=20))
ANY_TEXT = st.text(max_size=300) | TAG_SOUP | mutated(VALID)


def _check_against_official_rules(text: str) -> None:
    p = parse_completion(text)
    assert p.has_think == ("<think>" in text and "</think>" in text)
    m = OFFICIAL_THINK_RE.search(text)
    assert p.think == (m.group(1).strip() if m and p.has_think else None)
    blocks = OFFICIAL_BLOCK_RE.findall(text)
    if not blocks:
        assert (p.calls, p.error) == (None, NO_TOOL_CALL)
        return
    try:
        payload = json.loads(blocks[-1].strip())
        if isinstance(payload, str):
            payload = json.loads(payload)
    except (ValueError, RecursionError):
        assert (p.calls, p.error) == (None, INVALID_JSON)
        return
    payload = [payload] if isinstance(payload, dict) else payload
    valid = isinstance(payload, list) and all(isinstance(c, dict) and "name" in c and "arguments" in c for c in payload)
    if valid:
        assert p.error is None and json.dumps(p.calls) == json.dumps(payload)
    else:
        assert p.calls is None and p.error in (NOT_LIST, NOT_OBJECT, MISSING_NAME, MISSING_ARGUMENTS)
    assert p.reason == (p.error or OK if p.has_think else MISSING_THINK)


@settings(max_examples=400, deadline=None)
@given(text=ANY_TEXT)
def test_fuzz_parser_follows_official_rules(text):
    _check_against_official_rules(text)


@settings(max_examples=150, deadline=None)
@given(prefix=TAG_SOUP, calls=SIMPLE_CALLS, suffix=TAG_SOUP)
def test_fuzz_valid_block_inside_noise(prefix, calls, suffix):
    _check_against_official_rules(prefix + canonical_completion(calls) + suffix)

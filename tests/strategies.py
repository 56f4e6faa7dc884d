"""Hypothesis strategies shared by the parser and reward tests: JSON call lists, tag soup, mutated completions.

Example:
    from hypothesis import given
    from strategies import CALLS, mutated

    @given(text=mutated(CALLS.map(canonical_completion)))
    def test_never_raises(text): parse_completion(text)
"""

from __future__ import annotations

from hypothesis import strategies as st

# Every JSON type; ints bounded so that `float(i)` (a type change the tests make) cannot overflow, and floats
# finite: JSON (RFC 8259) has no Infinity, and a gold holding one is malformed (tooln1.safejson refuses it).
JSON_LEAF = (
    st.none() | st.booleans() | st.integers(min_value=-(10**12), max_value=10**12)
    | st.floats(allow_nan=False, allow_infinity=False, width=64) | st.text(max_size=12)
)  # fmt: skip
JSON_VALUE = st.recursive(
    JSON_LEAF, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
# 0..4 calls with any unicode names and nested arguments of every JSON type.
CALLS = st.lists(
    st.fixed_dictionaries(
        {"name": st.text(min_size=1, max_size=12), "arguments": st.dictionaries(st.text(max_size=8), JSON_VALUE, max_size=4)}
    ),
    max_size=4,
)

# Pieces of the completion grammar: inserting them is how a generation goes subtly wrong.
FRAGMENTS = ["<think>", "</think>", "<tool_call>", "</tool_call>", "<tool", "call>", "</", "[", "]", "{", "}", '"',
             '"name"', '"arguments"', ":", ",", "null", "5", "true", "\\", "\n", " ", "{}", "[]"]  # fmt: skip
TAG_SOUP = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), max_size=40).map("".join)


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[str]) -> str:
    """A text from `base` with 1-3 edits: a deletion, an inserted grammar fragment, a bit flip in one UTF-8 byte."""
    text = draw(base)
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["delete", "insert", "flip"]))
        if op == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 12)) :]
        elif op == "insert":
            text = text[:i] + draw(st.sampled_from(FRAGMENTS)) + text[i:]
        elif text:
            raw = bytearray(text.encode("utf-8"))
            raw[min(i, len(raw) - 1)] ^= 1 << draw(st.integers(0, 7))
            text = raw.decode("utf-8", errors="replace")
    return text

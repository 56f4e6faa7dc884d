"""The four reward variants against a hand-written table of literal completions (method §3.2-§3.4), plus the rules
each table row illustrates checked once more as properties, and the TRL and verl adapters.

Example:
    $ .venv/bin/pytest tests/test_rewards.py -q

Every expected score below was worked out by hand from the rules, never by running the code:
- binary (v0): 1 iff "<think>" and "</think>" both occur AND the last `<tool_call>` payload is a usable call list
  whose multiset of (name, json.dumps(arguments, sort_keys=True)) equals the gold's (both empty also counts);
- binary_no_think (v2): the same without the think check;
- partial_think (v3): 0.2 if both think tags occur (even when the payload is unusable) + 0.8 if the calls match;
- partial_name (v4): as v3, but when the calls do not match, + 0.2 if the multiset of names matches (this needs a
  structurally valid list, and both lists non-empty).
The reason is the first failing check in the official order (payload parse, think, structure, match);
`nt_reason` is the reason of binary_no_think, which never looks at the think tags.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from strategies import CALLS, TAG_SOUP, mutated
from tooln1.prompt import canonical_completion, format_calls
from tooln1.rewards import (
    ASSISTANT_HEADERS,
    OFFICIAL_PROMPT_TYPES,
    REASON_CODES,
    VARIANTS,
    TrlReward,
    compute_score,
    reward_rates,
    score,
)
from tooln1.types import ToolCall

T = "<think>The user wants this; all arguments are given.</think>\n"
GW = '{"name": "get_weather", "arguments": {"city": "Paris", "days": 5}}'  # the gold call of G1, written out
G1 = '[{"name": "get_weather", "arguments": {"city": "Paris", "days": 5}}]'
G2 = '[{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "get_time", "arguments": {"tz": "CET"}}]'
GDUP = '[{"name": "f", "arguments": {"x": 1}}, {"name": "f", "arguments": {"x": 1}}]'
GNEST = (
    '[{"name": "book", "arguments": {"guest": {"first": "Ann", "last": "Lee"}, "nights": [1, 2], '
    '"opts": {"a": {"b": true, "c": null}, "d": [{"k": 1, "v": "x"}]}}}]'
)
GBOOL = '[{"name": "set_light", "arguments": {"on": true, "level": 1}}]'
GSTR = '[{"name": "search", "arguments": {"query": "New York"}}]'
GUNI = '[{"name": "translate", "arguments": {"text": "Zürich ☃", "to": "日本語"}}]'
GFLOAT = '[{"name": "tip", "arguments": {"rate": 1.5}}]'
GNOARGS = '[{"name": "get_time", "arguments": {}}]'
GEMPTY = "[]"

CORRECT = (1.0, 1.0, 1.0, 1.0)  # scores for (binary, binary_no_think, partial_think, partial_name)
CORRECT_NO_THINK = (0.0, 1.0, 0.8, 0.8)
NAMES_ONLY = (0.0, 0.0, 0.2, 0.4)
NAMES_ONLY_NO_THINK = (0.0, 0.0, 0.0, 0.2)
THINK_ONLY = (0.0, 0.0, 0.2, 0.2)
NOTHING = (0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Row:
    id: str
    completion: str
    gold: str
    scores: tuple[float, float, float, float]
    reason: str
    why: str
    nt_reason: str | None = None  # binary_no_think's reason; defaults to `reason`

    def __post_init__(self) -> None:
        assert (self.reason == "format:missing_think") == (self.nt_reason is not None), self.id


ROWS = [
    # --- exact match and types ----------------------------------------------------------------------------------
    Row("exact", T + f"<tool_call>[{GW}]</tool_call>", G1, CORRECT, "ok", "the canonical right answer"),
    Row("int_vs_float", T + '<tool_call>[{"name": "get_weather", "arguments": {"city": "Paris", "days": 5.0}}]</tool_call>',
        G1, NAMES_ONLY, "call:arg_mismatch", "types strict: 5.0 dumps as '5.0', not '5'"),
    Row("int_vs_string", T + '<tool_call>[{"name": "get_weather", "arguments": {"city": "Paris", "days": "5"}}]</tool_call>',
        G1, NAMES_ONLY, "call:arg_mismatch", 'types strict: "5" is a string'),
    Row("int_vs_bool", T + '<tool_call>[{"name": "set_light", "arguments": {"on": true, "level": true}}]</tool_call>',
        GBOOL, NAMES_ONLY, "call:arg_mismatch", "true != 1 although Python says True == 1"),
    Row("bool_vs_int", T + '<tool_call>[{"name": "set_light", "arguments": {"on": 1, "level": 1}}]</tool_call>',
        GBOOL, NAMES_ONLY, "call:arg_mismatch", "1 != true"),
    Row("float_spelling", T + '<tool_call>[{"name": "tip", "arguments": {"rate": 15e-1}}]</tool_call>',
        GFLOAT, CORRECT, "ok", "15e-1 parses to the float 1.5: the comparison is on parsed values, not text"),
    Row("float_trailing_zero", T + '<tool_call>[{"name": "tip", "arguments": {"rate": 1.50}}]</tool_call>',
        GFLOAT, CORRECT, "ok", "1.50 is the float 1.5"),
    # --- call order and multiplicity ----------------------------------------------------------------------------
    Row("arg_key_order", T + '<tool_call>[{"arguments": {"days": 5, "city": "Paris"}, "name": "get_weather"}]</tool_call>',
        G1, CORRECT, "ok", "key order is free (sort_keys), also of the call object"),
    Row("parallel_swapped", T + '<tool_call>[{"name": "get_time", "arguments": {"tz": "CET"}}, '
        '{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_call>',
        G2, CORRECT, "ok", "order across calls is free (multiset)"),
    Row("parallel_missing_call", T + '<tool_call>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_call>',
        G2, THINK_ONLY, "call:count_mismatch", "a missing call; name multisets differ too"),
    Row("parallel_extra_call", T + f'<tool_call>[{GW}, {{"name": "get_time", "arguments": {{"tz": "CET"}}}}]</tool_call>',
        G1, THINK_ONLY, "call:count_mismatch", "an extra call; name multisets differ too"),
    Row("duplicate_pred_call", T + f"<tool_call>[{GW}, {GW}]</tool_call>",
        G1, THINK_ONLY, "call:count_mismatch", "multiplicity counts: twice the right call is wrong"),
    Row("duplicate_gold_ok", T + '<tool_call>[{"name": "f", "arguments": {"x": 1}}, {"name": "f", "arguments": {"x": 1}}]</tool_call>',
        GDUP, CORRECT, "ok", "a gold with the same call twice needs it twice"),
    Row("duplicate_gold_differs", T + '<tool_call>[{"name": "f", "arguments": {"x": 1}}, {"name": "f", "arguments": {"x": 2}}]</tool_call>',
        GDUP, NAMES_ONLY, "call:arg_mismatch", "a multiset, not a set: {f(1), f(2)} != {f(1), f(1)}; names f,f match"),
    # --- which block counts ------------------------------------------------------------------------------------
    Row("last_block_wins_good", T + '<tool_call>[{"name": "get_weather", "arguments": {}}]</tool_call> sorry, fixed: '
        f"<tool_call>[{GW}]</tool_call>", G1, CORRECT, "ok", "only the last block counts"),
    Row("last_block_wins_bad", T + f"<tool_call>[{GW}]</tool_call> or maybe "
        '<tool_call>[{"name": "get_weather", "arguments": {"city": "Lyon", "days": 5}}]</tool_call>',
        G1, NAMES_ONLY, "call:arg_mismatch", "a right earlier block does not save a wrong last one"),
    Row("last_block_invalid", T + f"<tool_call>[{GW}]</tool_call><tool_call>oops</tool_call>",
        G1, THINK_ONLY, "format:invalid_json", "the last block is parsed even when an earlier one is valid"),
    Row("nested_open_tag", T + f"<tool_call>A<tool_call>[{GW}]</tool_call>",
        G1, THINK_ONLY, "format:invalid_json", "non-greedy from the FIRST open tag: the payload is 'A<tool_call>[...]'"),
    Row("nested_open_after_list", T + f"<tool_call>[]<tool_call>[{GW}]</tool_call>",
        G1, THINK_ONLY, "format:invalid_json", "payload '[]<tool_call>[...]' is not one JSON value"),
    Row("tool_call_tag_in_think", f"<think>I will emit <tool_call> next</think><tool_call>[{GW}]</tool_call>",
        G1, THINK_ONLY, "format:invalid_json", "the block opens inside the think text: ' next</think><tool_call>[...'"),
    Row("whitespace_in_block", T + '<tool_call>\n  [ {"name" : "get_weather",\n "arguments" : {"city":"Paris","days":5} } ]\n</tool_call>',
        G1, CORRECT, "ok", "the payload is stripped and JSON whitespace is free"),
    # --- nesting -----------------------------------------------------------------------------------------------
    Row("nested_key_order", T + '<tool_call>[{"name": "book", "arguments": {"opts": {"d": [{"v": "x", "k": 1}], '
        '"a": {"c": null, "b": true}}, "nights": [1, 2], "guest": {"last": "Lee", "first": "Ann"}}}]</tool_call>',
        GNEST, CORRECT, "ok", "dict key order is free at every nesting level, also inside lists"),
    Row("list_order_kept", T + '<tool_call>[{"name": "book", "arguments": {"guest": {"first": "Ann", "last": "Lee"}, '
        '"nights": [2, 1], "opts": {"a": {"b": true, "c": null}, "d": [{"k": 1, "v": "x"}]}}}]</tool_call>',
        GNEST, NAMES_ONLY, "call:arg_mismatch", "list order inside arguments counts"),
    Row("nested_null_vs_missing", T + '<tool_call>[{"name": "book", "arguments": {"guest": {"first": "Ann", "last": "Lee"}, '
        '"nights": [1, 2], "opts": {"a": {"b": true}, "d": [{"k": 1, "v": "x"}]}}}]</tool_call>',
        GNEST, NAMES_ONLY, "call:arg_mismatch", "a nested key with null is not the same as no key"),
    # --- empty lists -------------------------------------------------------------------------------------------
    Row("empty_gold_empty_list", T + "<tool_call>[]</tool_call>", GEMPTY, CORRECT, "ok",
        "irrelevance: an empty list against an empty gold is right"),
    Row("empty_gold_empty_list_no_think", "<tool_call>[]</tool_call>", GEMPTY, CORRECT_NO_THINK,
        "format:missing_think", "right calls but no think tags", nt_reason="ok"),
    Row("empty_gold_vs_call", T + f"<tool_call>[{GW}]</tool_call>", GEMPTY, THINK_ONLY, "call:count_mismatch",
        "a call where none is right; no name credit ([] vs [get_weather])"),
    Row("gold_vs_empty_list", T + "<tool_call>[]</tool_call>", G1, THINK_ONLY, "call:count_mismatch",
        "no call where one is right"),
    Row("empty_gold_no_block", T + "No function fits this request.", GEMPTY, THINK_ONLY, "format:no_tool_call",
        "irrelevance still needs the empty <tool_call>[]</tool_call> block (§3.3)"),
    Row("empty_args_ok", T + '<tool_call>[{"name": "get_time", "arguments": {}}]</tool_call>', GNOARGS, CORRECT, "ok",
        "a call without arguments"),
    Row("null_args", T + '<tool_call>[{"name": "get_time", "arguments": null}]</tool_call>', GNOARGS, NAMES_ONLY,
        "call:arg_mismatch", "null is not {} (it has both keys, so it is structurally valid)"),
    # --- payload normalisation ---------------------------------------------------------------------------------
    Row("dict_promoted", T + f"<tool_call>{GW}</tool_call>", G1, CORRECT, "ok", "a bare object becomes a one-item list"),
    Row("json_string_payload", T + r'<tool_call>"[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 5}}]"</tool_call>',
        G1, CORRECT, "ok", "a JSON string payload is decoded once more"),
    Row("json_string_dict_payload", T + r'<tool_call>"{\"name\": \"get_weather\", \"arguments\": {\"days\": 5, \"city\": \"Paris\"}}"</tool_call>',
        G1, CORRECT, "ok", "decoded once more, then promoted to a list"),
    Row("json_string_twice", T + r'<tool_call>"\"[]\""</tool_call>', GEMPTY, THINK_ONLY, "call:not_list",
        "decoded only once more: the result is still the string '[]'"),
    Row("json_string_not_json", T + '<tool_call>"not json"</tool_call>', G1, THINK_ONLY, "format:invalid_json",
        "the second decode fails, like a parse error"),
    Row("args_as_json_string", T + r'<tool_call>[{"name": "get_weather", "arguments": "{\"city\": \"Paris\", \"days\": 5}"}]</tool_call>',
        G1, NAMES_ONLY, "call:arg_mismatch", "arguments given as a JSON string are a string, not an object"),
    Row("extra_call_keys", T + '<tool_call>[{"name": "get_weather", "arguments": {"city": "Paris", "days": 5}, "id": "call_1"}]</tool_call>',
        G1, CORRECT, "ok", "only 'name' and 'arguments' are required; other keys of a call are ignored"),
    # --- argument sets -----------------------------------------------------------------------------------------
    Row("extra_argument", T + '<tool_call>[{"name": "get_weather", "arguments": {"city": "Paris", "days": 5, "units": "C"}}]</tool_call>',
        G1, NAMES_ONLY, "call:arg_mismatch", "an extra (even optional) argument is wrong"),
    Row("missing_argument", T + '<tool_call>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_call>',
        G1, NAMES_ONLY, "call:arg_mismatch", "a missing argument is wrong"),
    Row("wrong_name", T + '<tool_call>[{"name": "get_forecast", "arguments": {"city": "Paris", "days": 5}}]</tool_call>',
        G1, THINK_ONLY, "call:name_mismatch", "right arguments under the wrong name get nothing"),
    Row("name_case", T + '<tool_call>[{"name": "Get_Weather", "arguments": {"city": "Paris", "days": 5}}]</tool_call>',
        G1, THINK_ONLY, "call:name_mismatch", "names are case-sensitive"),
    Row("string_case", T + '<tool_call>[{"name": "search", "arguments": {"query": "new york"}}]</tool_call>',
        GSTR, NAMES_ONLY, "call:arg_mismatch", "string values are case-sensitive"),
    Row("string_whitespace", T + '<tool_call>[{"name": "search", "arguments": {"query": "New York "}}]</tool_call>',
        GSTR, NAMES_ONLY, "call:arg_mismatch", "string values keep their whitespace"),
    Row("names_only_parallel", T + '<tool_call>[{"name": "get_time", "arguments": {"tz": "UTC"}}, '
        '{"name": "get_weather", "arguments": {"city": "Rome"}}]</tool_call>',
        G2, NAMES_ONLY, "call:arg_mismatch", "both names right, both argument sets wrong: 0.2 think + 0.2 names"),
    Row("names_only_no_think", '<tool_call>[{"name": "get_weather", "arguments": {"city": "Rome", "days": 5}}]</tool_call>',
        G1, NAMES_ONLY_NO_THINK, "format:missing_think", "name credit does not need think tags",
        nt_reason="call:arg_mismatch"),
    # --- think tags --------------------------------------------------------------------------------------------
    Row("missing_think", f"<tool_call>[{GW}]</tool_call>", G1, CORRECT_NO_THINK, "format:missing_think",
        "right calls without think tags", nt_reason="ok"),
    Row("only_open_think", f"<think>Paris, 5 days <tool_call>[{GW}]</tool_call>", G1, CORRECT_NO_THINK,
        "format:missing_think", "'</think>' is missing", nt_reason="ok"),
    Row("only_close_think", f"Paris, 5 days</think><tool_call>[{GW}]</tool_call>", G1, CORRECT_NO_THINK,
        "format:missing_think", "'<think>' is missing", nt_reason="ok"),
    Row("upper_case_think", f"<THINK>x</THINK><tool_call>[{GW}]</tool_call>", G1, CORRECT_NO_THINK,
        "format:missing_think", "the substring check is case-sensitive", nt_reason="ok"),
    Row("think_after_call", f"<tool_call>[{GW}]</tool_call><think>done</think>", G1, CORRECT, "ok",
        "a substring check: think may come after the call"),
    Row("close_before_open", f"</think> then <think><tool_call>[{GW}]</tool_call>", G1, CORRECT, "ok",
        "a substring check: the tags need not be in order"),
    Row("multiple_think", f"<think>a</think><think>b</think><tool_call>[{GW}]</tool_call>", G1, CORRECT, "ok",
        "several think blocks are allowed"),
    Row("empty_think", f"<think></think><tool_call>[{GW}]</tool_call>", G1, CORRECT, "ok", "an empty think counts"),
    Row("text_around", f"Sure! <think>x</think> Here it is: <tool_call>[{GW}]</tool_call> Hope this helps.<|im_end|>",
        G1, CORRECT, "ok", "text before and after is allowed"),
    # --- unusable payloads -------------------------------------------------------------------------------------
    Row("invalid_json", T + '<tool_call>[{"name": "get_weather", "arguments": {"city": "Paris",}}]</tool_call>',
        G1, THINK_ONLY, "format:invalid_json", "a trailing comma is invalid JSON"),
    Row("invalid_json_no_think", '<tool_call>[{"name": "get_weather", arguments: {}}]</tool_call>',
        G1, NOTHING, "format:invalid_json", "unquoted key; the parse fails before the think check"),
    Row("python_literal", T + "<tool_call>[{'name': 'get_weather', 'arguments': {'city': 'Paris', 'days': 5}}]</tool_call>",
        G1, THINK_ONLY, "format:invalid_json", "Python quotes are not JSON"),
    Row("missing_close_tag", T + f"<tool_call>[{GW}]", G1, THINK_ONLY, "format:no_tool_call",
        "no closing tag means no block (truncated generation)"),
    Row("upper_case_tool_call", T + f"<TOOL_CALL>[{GW}]</TOOL_CALL>", G1, THINK_ONLY, "format:no_tool_call",
        "the tags are case-sensitive"),
    Row("empty_block", T + "<tool_call></tool_call>", GEMPTY, THINK_ONLY, "format:invalid_json",
        "an empty payload is not JSON, not an empty list"),
    Row("no_block_no_think", "The weather in Paris is nice.", G1, NOTHING, "format:no_tool_call", "plain text"),
    Row("payload_int", T + "<tool_call>5</tool_call>", G1, THINK_ONLY, "call:not_list",
        "the official code raises TypeError here; our rule: unusable payload"),
    Row("payload_int_no_think", "<tool_call>5</tool_call>", G1, NOTHING, "format:missing_think",
        "a parsed payload meets the think check before the structure check", nt_reason="call:not_list"),
    Row("payload_true", T + "<tool_call>true</tool_call>", G1, THINK_ONLY, "call:not_list", "a bare bool"),
    Row("payload_null", T + "<tool_call>null</tool_call>", GEMPTY, THINK_ONLY, "call:not_list",
        "null is not an empty list, even against an empty gold"),
    Row("payload_string", T + '<tool_call>"x"</tool_call>', G1, THINK_ONLY, "format:invalid_json",
        "'x' is not JSON on the second decode"),
    Row("payload_list_of_int", T + "<tool_call>[1]</tool_call>", G1, THINK_ONLY, "call:not_object",
        "items must be objects"),
    Row("payload_name_only", T + '<tool_call>[{"name": "get_weather"}]</tool_call>', G1, THINK_ONLY,
        "call:missing_arguments", "no 'arguments' key; no name credit without a valid structure"),
    Row("payload_arguments_only", T + '<tool_call>[{"arguments": {}}]</tool_call>', GNOARGS, THINK_ONLY,
        "call:missing_name", "no 'name' key"),
    Row("one_bad_item", T + f'<tool_call>[{GW}, "get_time"]</tool_call>', G1, THINK_ONLY, "call:not_object",
        "one non-object item spoils the whole list"),
    Row("name_not_string", T + '<tool_call>[{"name": ["get_weather"], "arguments": {"city": "Paris", "days": 5}}]</tool_call>',
        G1, THINK_ONLY, "call:name_mismatch", "a list as name never equals a string name"),
    Row("names_mixed_types", T + '<tool_call>[{"name": 1, "arguments": {"tz": "CET"}}, '
        '{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_call>',
        G2, THINK_ONLY, "call:name_mismatch", "a number as a name never equals a string name (and does not sort)"),
    # --- unicode -----------------------------------------------------------------------------------------------
    Row("unicode_escaped", T + r'<tool_call>[{"name": "translate", "arguments": {"text": "Z\u00fcrich \u2603", "to": "日本語"}}]</tool_call>',
        GUNI, CORRECT, "ok", "JSON escapes and literal characters decode to the same string"),
    Row("unicode_decomposed", T + '<tool_call>[{"name": "translate", "arguments": {"text": "Zu\u0308rich ☃", "to": "日本語"}}]</tool_call>',
        GUNI, NAMES_ONLY, "call:arg_mismatch", "no Unicode normalisation: u + combining diaeresis is not ü"),
]
ROW_IDS = [r.id for r in ROWS]


def test_table_is_big_and_ids_unique():
    assert len(ROWS) >= 40
    assert len(set(ROW_IDS)) == len(ROWS)
    assert {r.reason for r in ROWS} <= set(REASON_CODES)


@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_table(row: Row, variant: str):
    r = score(row.completion, row.gold, variant)
    expected = row.scores[VARIANTS.index(variant)]
    assert r.score == pytest.approx(expected, abs=1e-12), row.why
    reason = (row.nt_reason or row.reason) if variant == "binary_no_think" else row.reason
    assert r.reason == reason, row.why


@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
def test_table_gold_as_list(row: Row):
    """The gold may also arrive already decoded (verl rows, the CLI): same score."""
    assert score(row.completion, json.loads(row.gold), "partial_name").score == pytest.approx(row.scores[3])


def test_result_flags():
    ok = score(T + f"<tool_call>[{GW}]</tool_call>", G1)
    assert (ok.has_think, ok.format_ok, ok.names_match) == (True, True, True)
    no_think = score(f"<tool_call>[{GW}]</tool_call>", G1)
    assert (no_think.has_think, no_think.format_ok, no_think.names_match) == (False, False, True)
    bad = score(T + "<tool_call>[1]</tool_call>", G1)
    assert (bad.has_think, bad.format_ok, bad.names_match) == (True, False, False)
    wrong_args = score(T + '<tool_call>[{"name": "get_weather", "arguments": {}}]</tool_call>', G1)
    assert (wrong_args.format_ok, wrong_args.names_match) == (True, True)


def test_gold_forms_agree():
    completion = T + f"<tool_call>[{GW}]</tool_call>"
    as_calls = [ToolCall("get_weather", {"city": "Paris", "days": 5})]
    assert score(completion, as_calls).score == score(completion, json.loads(G1)).score == score(completion, G1).score == 1.0


@pytest.mark.parametrize("gold", ["{", '{"name": "f", "arguments": {}}', '[{"name": "f"}]', "[1]", 5, None])
def test_malformed_gold_is_a_value_error(gold):
    with pytest.raises(ValueError):
        score(T + "<tool_call>[]</tool_call>", gold)


def test_unknown_variant():
    with pytest.raises(ValueError, match="unknown reward variant"):
        score("", "[]", "lexico")
    with pytest.raises(ValueError, match="unknown reward variant"):
        TrlReward("lexico")


# --- the TRL adapter ------------------------------------------------------------------------------------------
RIGHT = T + f"<tool_call>[{GW}]</tool_call>"
NO_THINK = f"<tool_call>[{GW}]</tool_call>"
WRONG_ARGS = T + '<tool_call>[{"name": "get_weather", "arguments": {"city": "Paris", "days": "5"}}]</tool_call>'
BROKEN = T + "<tool_call>[{]</tool_call>"


class MetricLog:
    """Collects `log_metric(name, value)` calls the way TRL's trainer receives them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []

    def __call__(self, name: str, value: float) -> None:
        self.calls.append((name, value))

    @property
    def last(self) -> dict[str, float]:
        return dict(self.calls)


@pytest.mark.parametrize(
    ("variant", "expected"),
    [("binary", [1.0, 0.0, 0.0, 0.0]), ("binary_no_think", [1.0, 1.0, 0.0, 0.0]),
     ("partial_think", [1.0, 0.8, 0.2, 0.2]), ("partial_name", [1.0, 0.8, 0.4, 0.2])],
)  # fmt: skip
def test_trl_reward_string_completions(variant, expected):
    log = MetricLog()
    fn = TrlReward(variant)
    completions = [RIGHT, NO_THINK, WRONG_ARGS, BROKEN]
    # TRL passes every column as a list aligned with the completions, plus its own keyword arguments.
    out = fn(prompts=["p"] * 4, completions=completions, completion_ids=[[1]] * 4, ground_truth=[G1] * 4,
             trainer_state=None, log_extra=lambda *a: None, log_metric=log, tools_json=["[]"] * 4)  # fmt: skip
    assert out == pytest.approx(expected)
    assert fn.__name__ == f"tool_n1_{variant}"
    rates = log.last
    assert rates["think_rate"] == pytest.approx(3 / 4)
    assert rates["format_rate"] == pytest.approx(2 / 4)  # RIGHT and WRONG_ARGS: usable list + think
    assert rates["name_match_rate"] == pytest.approx(3 / 4)  # BROKEN has no usable list
    assert rates["reason/format:invalid_json"] == pytest.approx(1 / 4)
    assert rates["reason/call:arg_mismatch"] == pytest.approx(1 / 4)
    if variant == "binary_no_think":
        assert rates["reason/ok"] == pytest.approx(2 / 4)
    else:
        assert rates["reason/ok"] == pytest.approx(1 / 4)
        assert rates["reason/format:missing_think"] == pytest.approx(1 / 4)
    assert len(log.calls) == len(set(n for n, _ in log.calls)) == 3 + len(REASON_CODES)


def test_trl_reward_conversational_completions():
    fn = TrlReward("binary")
    completions = [[{"role": "assistant", "content": RIGHT}], [{"role": "assistant", "content": WRONG_ARGS}],
                   [{"role": "assistant", "content": "<think>a"}, {"role": "assistant", "content": f"</think><tool_call>[{GW}]</tool_call>"}]]  # fmt: skip
    assert fn(completions=completions, ground_truth=[G1, G1, G1]) == [1.0, 0.0, 1.0]


def test_trl_reward_per_row_gold_and_no_logger():
    fn = TrlReward("binary")
    out = fn(completions=[RIGHT, T + "<tool_call>[]</tool_call>"], ground_truth=[G1, GEMPTY])
    assert out == [1.0, 1.0]
    with pytest.raises(ValueError):  # misaligned columns are a bug upstream: fail loudly
        fn(completions=[RIGHT], ground_truth=[G1, G1])


def test_trl_reward_pickles():
    import pickle

    fn = pickle.loads(pickle.dumps(TrlReward("partial_name")))
    assert fn(completions=[WRONG_ARGS], ground_truth=[G1]) == [pytest.approx(0.4)]


def test_reward_rates_all_codes():
    rates = reward_rates([score(c, G1) for c in (RIGHT, NO_THINK, BROKEN)])
    assert set(rates) == {"format_rate", "think_rate", "name_match_rate"} | {f"reason/{c}" for c in REASON_CODES}
    assert sum(v for k, v in rates.items() if k.startswith("reason/")) == pytest.approx(1.0)


# --- the verl adapter -----------------------------------------------------------------------------------------
SYSTEM = (
    "You call tools. Example: <think>To do X I call f.</think><tool_call>[{\"name\": \"f\", \"arguments\": {}}]"
    "</tool_call>"
)  # the prompt holds an example with both tags: only the text after the last assistant header may count
QWEN = (
    f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\nWeather in Paris for 5 days?<|im_end|>\n"
    "<|im_start|>assistant\n{response}<|im_end|>"
)
LLAMA = (
    f"<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n{SYSTEM}<|eot_id|>"
    "<|start_header_id|>user<|end_header_id|>\n\nWeather in Paris for 5 days?<|eot_id|>"
    "<|start_header_id|>assistant<|end_header_id|>\n\n{response}<|eot_id|>"
)
GEMMA = (
    f"<bos><start_of_turn>user\n{SYSTEM}\n\nWeather in Paris for 5 days?<end_of_turn>\n"
    "<start_of_turn>model\n{response}<end_of_turn>"
)


@pytest.mark.parametrize("template", [QWEN, LLAMA, GEMMA], ids=["qwen", "llama", "gemma"])
@pytest.mark.parametrize("gold", [G1, json.loads(G1)], ids=["json", "list"])
def test_compute_score_cuts_at_last_assistant_header(template, gold):
    full = template.replace("{response}", RIGHT)
    assert compute_score("toolcall", full, gold) == {"score": 1.0, "format_ok": 1.0, "think": 1.0, "names_match": 1.0}
    # Without the cut, the prompt's example would supply the think tags: the response alone has none.
    no_think = template.replace("{response}", NO_THINK)
    assert compute_score("toolcall", no_think, gold)["score"] == 0.0
    # ... and the prompt's example call would be parsed when the response has no block at all.
    assert compute_score("toolcall", template.replace("{response}", "<think>hmm</think>"), '[{"name": "f", "arguments": {}}]')["score"] == 0.0


def test_compute_score_multi_turn_prompt_uses_last_header():
    earlier = "<|im_start|>assistant\n" + RIGHT + "<|im_end|>\n<|im_start|>user\nAnd Rome?<|im_end|>\n"
    full = QWEN.replace("<|im_start|>assistant\n{response}", earlier + "<|im_start|>assistant\n" + NO_THINK)
    assert compute_score("toolcall", full, G1)["score"] == 0.0


def test_compute_score_plain_response():
    """verl's naive manager decodes only the response: no header at all means the whole string is the response."""
    assert compute_score("toolcall", RIGHT, G1)["score"] == 1.0


@pytest.mark.parametrize(
    ("extra_info", "expected"),
    [(None, 0.0), ({}, 0.0), ({"prompt_type": "qwen"}, 0.0), ({"prompt_type": "qwen_wo_reason"}, 1.0),
     ({"prompt_type": "qwen_partial_reason"}, 0.8), ({"prompt_type": "qwen_partial_reason_funcname"}, 0.8),
     ({"reward_variant": "binary_no_think"}, 1.0), ({"reward_variant": "partial_think", "prompt_type": "qwen"}, 0.8),
     ({"split": "train", "index": 3}, 0.0)],
)  # fmt: skip
def test_compute_score_variant_selection(extra_info, expected):
    assert set(OFFICIAL_PROMPT_TYPES.values()) == set(VARIANTS)
    full = QWEN.replace("{response}", NO_THINK)  # right calls, no think tags
    assert compute_score("toolcall", full, G1, extra_info)["score"] == pytest.approx(expected)


@pytest.mark.parametrize("prompt_type", ["llama", "qwen_lexico", "nonsense"])
def test_compute_score_rejects_unsupported_prompt_type(prompt_type):
    with pytest.raises(ValueError, match="unsupported prompt_type"):
        compute_score("toolcall", RIGHT, G1, {"prompt_type": prompt_type})


def test_compute_score_name_credit_through_prompt_type():
    full = LLAMA.replace("{response}", WRONG_ARGS)
    out = compute_score("toolcall", full, G1, {"prompt_type": "qwen_partial_reason_funcname"})
    assert out == {"score": pytest.approx(0.4), "format_ok": 1.0, "think": 1.0, "names_match": 1.0}


def test_assistant_headers_cover_the_three_families():
    assert any("im_start" in h for h in ASSISTANT_HEADERS)
    assert any("start_header_id" in h for h in ASSISTANT_HEADERS)
    assert any("start_of_turn" in h for h in ASSISTANT_HEADERS)


# --- properties: every canonical gold scores 1; any type change scores 0 ------------------------------------------
def _change_type(v):
    """A value of another JSON type that a lenient comparison might still call equal."""
    if isinstance(v, bool):
        return int(v)  # true -> 1
    if isinstance(v, int):
        return float(v)  # 5 -> 5.0
    if isinstance(v, float):
        return repr(v)  # 1.5 -> "1.5"
    if isinstance(v, str):
        return [v]
    if v is None:
        return "null"
    if isinstance(v, list):
        return {str(i): x for i, x in enumerate(v)}
    return list(v.values())  # dict -> list


@settings(max_examples=300, deadline=None)
@given(calls=CALLS, think=st.text(max_size=30).filter(lambda s: "<" not in s), data=st.data())
def test_canonical_gold_scores_one(calls, think, data):
    gold = json.dumps(calls)
    # A string holding "</tool_call>" ends the block early, in the official parser too: not a canonical answer.
    assume("</tool_call>" not in gold)
    completion = canonical_completion(calls, think)
    for variant in VARIANTS:
        assert score(completion, gold, variant).score == 1.0
    shuffled = data.draw(st.permutations(calls))
    assert score("<think></think>" + format_calls(shuffled), gold).score == 1.0
    with_args = [i for i, c in enumerate(calls) if c["arguments"]]
    if with_args:
        i = data.draw(st.sampled_from(with_args))
        key = data.draw(st.sampled_from(sorted(calls[i]["arguments"])))
        changed = json.loads(json.dumps(calls))
        changed[i]["arguments"][key] = _change_type(calls[i]["arguments"][key])
        r = score(canonical_completion(changed, think), gold, "partial_name")
        assert r.score == pytest.approx(0.4) and r.reason == "call:arg_mismatch"
        assert score(canonical_completion(changed, think), gold).score == 0.0


def test_canonical_gold_examples():
    """A few fixed cases the generator may miss: exotic floats, deep nesting, astral characters."""
    calls = [{"name": "𝔣", "arguments": {"a": 1e308, "b": -0.0, "c": [[[{"d": [None, True, "\u0000"]}]]], "é": 10**12}}]
    assert score(canonical_completion(calls), json.dumps(calls)).score == 1.0
    assert score(canonical_completion(calls), json.dumps(calls, ensure_ascii=False, indent=2)).score == 1.0


def test_shuffle_keeps_multiplicity():
    rng = random.Random(0)
    calls = [{"name": "f", "arguments": {"x": i % 2}} for i in range(5)]
    gold = json.dumps(calls)
    for _ in range(10):
        rng.shuffle(calls)
        assert score(T + f"<tool_call>{json.dumps(calls)}</tool_call>", gold).score == 1.0
    # Same names and count, one f(x=1) swapped for a third f(x=0): the multisets differ.
    wrong = [{"name": "f", "arguments": {"x": x}} for x in (0, 0, 1, 1, 1)]
    r = score(T + f"<tool_call>{json.dumps(wrong)}</tool_call>", gold, "partial_name")
    assert (r.score, r.reason) == (pytest.approx(0.4), "call:arg_mismatch")


# --- fuzzing: never raises, scores stay in each variant's allowed set, variants agree with each other -----------
ALLOWED = {
    "binary": {0.0, 1.0},
    "binary_no_think": {0.0, 1.0},
    "partial_think": {0.0, 0.2, 0.8, 1.0},
    "partial_name": {0.0, 0.2, 0.4, 0.8, 1.0},
}


def _check_variants(text: str, gold: str) -> None:
    results = {v: score(text, gold, v) for v in VARIANTS}
    for v, r in results.items():
        assert any(r.score == pytest.approx(a, abs=1e-12) for a in ALLOWED[v]), (v, r)
        assert r.reason in REASON_CODES
    b, nt, pt, pn = (results[v].score for v in VARIANTS)
    think = "<think>" in text and "</think>" in text
    assert results["binary"].has_think == think
    assert b == (nt if think else 0.0)  # v0 = v2 + think check
    assert pt == pytest.approx(0.2 * think + 0.8 * nt)  # v3
    names = results["partial_name"].names_match
    assert pn == pytest.approx(pt + (0.2 if names and nt == 0.0 else 0.0))  # v4
    assert (results["binary"].reason == "ok") == (b == 1.0)


FUZZ_GOLDS = st.sampled_from([G1, G2, GDUP, GEMPTY, GNOARGS, GUNI])
ROW_COMPLETIONS = st.sampled_from([r.completion for r in ROWS])


@settings(max_examples=400, deadline=None)
@given(text=st.text(max_size=200) | TAG_SOUP, gold=FUZZ_GOLDS)
def test_fuzz_arbitrary_text(text, gold):
    _check_variants(text, gold)


@settings(max_examples=400, deadline=None)
@given(text=mutated(ROW_COMPLETIONS), gold=FUZZ_GOLDS)
def test_fuzz_mutated_completions(text, gold):
    _check_variants(text, gold)


@settings(max_examples=300, deadline=None)
@given(calls=CALLS, data=st.data())
def test_fuzz_mutated_canonical_answers(calls, data):
    """Edits of a right answer, scored against that answer: near misses of every kind."""
    text = data.draw(mutated(st.just(canonical_completion(calls))))
    _check_variants(text, json.dumps(calls))


@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
def test_table_rows_satisfy_variant_relations(row: Row):
    _check_variants(row.completion, row.gold)

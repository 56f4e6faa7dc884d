"""ACEBench through our path (Tool-N1 completion -> conversion -> ACEBench's driver) against ACEBench called directly.

Every item of the 12 normal and 3 special categories of the snapshot in ../shared/acebench is answered with its
oracle (the first possible answer). Our verdict must equal the verdict of ACEBench's own driver fed the answer in
ACEBench's output syntax, written here independently with `ast.unparse` (special: the phrase itself). 70 of 973
oracles are scored wrong by ACEBench itself; each is listed below with the reason, and the reason is checked.

Run: .venv/bin/pytest tests/eval/test_acebench.py -q
"""

from __future__ import annotations

import ast
import copy
from pathlib import Path

import pytest

from tooln1.errors import UserError
from tooln1.eval import acebench
from tooln1.parsing import parse_completion
from tooln1.prompt import canonical_completion

COUNTS = {
    "normal_single_turn_single_function": 100, "normal_single_turn_parallel_function": 100,
    "normal_multi_turn_user_adjust": 123, "normal_multi_turn_user_switch": 100, "normal_similar_api": 50,
    "normal_preference": 50, "normal_atom_bool": 50, "normal_atom_enum": 50, "normal_atom_number": 50,
    "normal_atom_list": 50, "normal_atom_object_deep": 50, "normal_atom_object_short": 50,
    "special_incomplete": 50, "special_error_param": 50, "special_irrelevant": 50,
}  # fmt: skip

# ACEBench's driver deletes every whitespace character of a text answer before decoding it (eval_main.py:
# `"".join(model_result_item_raw.split())`), and its dict_checker compares a list inside an object as `str(list)`
# without normalising its strings; so a correct value such as ['Route A'] inside an object can never match. Any
# prompt-mode model loses these items; the checker accepts the same answer when it is given without the driver.
WHITESPACE = {
    "normal_single_turn_single_function": (31, 39, 46, 47, 52, 53, 56, 94),
    "normal_single_turn_parallel_function": (3, 4, 11, 40, 46, 54, 64, 71, 85, 86, 90, 95, 99),
    "normal_multi_turn_user_adjust": ("3_0", "4_0", "13_0", "14_0", "15_0", "15_2", "16_0", "24_0", "29_0", "38_0",
                                      "43_0", "45_0", "48_0"),
    "normal_multi_turn_user_switch": ("6_0", "8_0", "10_1", "11_0", "15_1", "20_0", "25_0", "31_1", "33_0", "35_0",
                                      "40_0", "43_0", "45_0", "45_1"),
    "normal_similar_api": (43, 49),
    "normal_atom_object_deep": (0, 4, 8, 13, 14, 23, 24, 26, 30, 32, 34, 39, 43, 45, 46, 48, 49),
}  # fmt: skip
WHITESPACE_IDS = {f"{cat}_{n}" for cat, ns in WHITESPACE.items() for n in ns}
# Flawed possible answers, with the error type ACEBench gives its own answer.
FLAWED_ANSWERS = {
    # event_details=[] for an array of objects: the nested type check fails on an empty list ("Nested type
    # checking failed"); with two calls of one function the driver then reports its last comparison instead.
    "normal_single_turn_parallel_function_42": "value_error:string",
    # UserDietaryPreferences=["None"] for an "array" without `items`: the checker reads it as a list of objects.
    "normal_preference_40": "value_error",
    # the missing parameters are stored with padding (" rentalManagement "): a plain list "a, b, c" never matches.
    "special_incomplete_0": "error_correction",
}


@pytest.fixture(scope="module")
def cases(acebench_root: str) -> list[acebench.AceCase]:
    return acebench.load_cases(acebench_root, ["all"])


def _literal(value: object) -> ast.expr:
    if isinstance(value, dict):
        return ast.Dict(keys=[ast.Constant(k) for k in value], values=[_literal(v) for v in value.values()])
    if isinstance(value, list):
        return ast.List(elts=[_literal(v) for v in value])
    return ast.Constant(value)


def _native(case: acebench.AceCase) -> str:
    """The oracle in ACEBench's own output syntax, as a prompt-mode model answers ACEBench."""
    gt = case.answer["ground_truth"]
    first = gt[0] if isinstance(gt, list) else gt
    names = {t["name"] for t in case.entry["function"]}
    calls = []
    for key, args in first.items():
        name = key if key in names else key.rsplit("_", 1)[0]
        func: ast.expr = ast.Name(name.split(".")[0])
        for part in name.split(".")[1:]:
            func = ast.Attribute(func, part)
        calls.append(ast.Call(func, [], [ast.keyword(k, _literal(v)) for k, v in args.items()]))
    return ast.unparse(ast.List(elts=calls))


def _direct(case: acebench.AceCase, root: str) -> bool:
    """ACEBench's driver called directly on one item (its writers are captured by `acebench.acebench`)."""
    driver = acebench.acebench(root).driver
    paths = driver.get_paths("en")
    if case.category in acebench.SPECIAL:
        text = acebench.oracle_completion(case).split("</think>", 1)[1]
        fn = driver.special_eval
    else:
        text = _native(case)
        multi = case.category.startswith("normal_multi_turn")
        fn = driver.normal_multi_turn_eval if multi else driver.normal_single_turn_eval
    entry, answer = copy.deepcopy(case.entry), copy.deepcopy(case.answer)
    return fn([{"id": case.id, "result": text}], [entry], [answer], case.category, "tooln1", paths) == 1


def test_categories_are_acebench_own(acebench_root: str) -> None:
    ace = acebench.acebench(acebench_root)
    assert list(acebench.NORMAL) == ace.categories["normal"]
    assert list(acebench.SPECIAL) == ace.categories["special"]
    assert tuple(ace.categories["agent"]) == acebench.LEFT_OUT


def test_item_counts(cases: list[acebench.AceCase]) -> None:
    counts: dict[str, int] = {}
    for c in cases:
        counts[c.category] = counts.get(c.category, 0) + 1
    assert counts == COUNTS


def test_oracle_verdicts_equal_acebench_called_directly(cases: list[acebench.AceCase], acebench_root: str) -> None:
    ours = {c.id: acebench.score(c, acebench.oracle_completion(c), acebench_root) for c in cases}
    direct = {c.id: _direct(c, acebench_root) for c in cases}
    assert {k: v.correct for k, v in ours.items()} == direct
    wrong = {k for k, v in ours.items() if not v.correct}
    assert wrong == WHITESPACE_IDS | set(FLAWED_ANSWERS)
    assert len(wrong) == 70 and len(cases) == 973
    for key, error_type in FLAWED_ANSWERS.items():
        assert ours[key].error.startswith(error_type + ":"), ours[key].error


def test_whitespace_items_pass_the_checker_without_the_driver(cases: list[acebench.AceCase], acebench_root: str):
    """The reason given for WHITESPACE: ACEBench's checker accepts those oracles when the driver does not strip."""
    checker = acebench.acebench(acebench_root).checker
    for c in (c for c in cases if c.id in WHITESPACE_IDS):
        gt = c.answer["ground_truth"]
        first = gt[0] if isinstance(gt, list) else gt
        calls = parse_completion(acebench.oracle_completion(c)).calls
        decoded = [{call["name"]: call["arguments"]} for call in calls]
        result = checker.normal_checker(c.entry["function"], decoded, copy.deepcopy(first), c.entry["question"],
                                        c.category)  # fmt: skip
        assert result["valid"], (c.id, result)


def _completion(calls: list[dict]) -> str:
    return canonical_completion(calls)


GOLD_BOOL_0 = {"meal_type": "dinner", "include_vegetarian_options": True, "cuisine_preference": "Asian"}
WRONG = [
    # (1 for the boolean would pass: ACEBench's type check accepts a value equal to the answer, and 1 == True)
    ("wrong type", [{"name": "ProteinRichMealPlanner_generateList",
                     "arguments": {**GOLD_BOOL_0, "cuisine_preference": 5}}], "type_error"),
    ("wrong value", [{"name": "ProteinRichMealPlanner_generateList",
                      "arguments": {**GOLD_BOOL_0, "cuisine_preference": "Italian"}}], "value_error:string"),
    # meal_type is the one required parameter (ACEBench accepts a missing optional one)
    ("missing parameter", [{"name": "ProteinRichMealPlanner_generateList",
                            "arguments": {"include_vegetarian_options": True, "cuisine_preference": "Asian"}}],
     "lack_args"),
    ("extra parameter", [{"name": "ProteinRichMealPlanner_generateList",
                          "arguments": {**GOLD_BOOL_0, "calories": 500}}], "addition_args"),
    ("extra call", [{"name": "ProteinRichMealPlanner_generateList", "arguments": GOLD_BOOL_0},
                    {"name": "HomeProjectManager.trackProgress", "arguments": {}}], "wrong functions number"),
    ("wrong function", [{"name": "HomeProjectManager.trackProgress", "arguments": GOLD_BOOL_0}], "function_mismatch"),
    ("no call", [], "wrong functions number"),
]  # fmt: skip


@pytest.mark.parametrize(("what", "calls", "error_type"), WRONG, ids=[w[0] for w in WRONG])
def test_hand_made_wrong_answers_are_wrong(cases, acebench_root: str, what: str, calls: list, error_type: str):
    case = next(c for c in cases if c.id == "normal_atom_bool_0")
    assert acebench.score(case, _completion([{"name": "ProteinRichMealPlanner_generateList",
                                              "arguments": GOLD_BOOL_0}]), acebench_root).correct  # fmt: skip
    verdict = acebench.score(case, _completion(calls), acebench_root)
    assert not verdict.correct and verdict.error.startswith(error_type), verdict.error


@pytest.mark.parametrize(
    ("item", "completion", "reason"),
    [
        ("special_irrelevant_0", '<think>x</think><tool_call>[{"name": "f", "arguments": {}}]</tool_call>',
         "error_detection"),
        # the phrase only in the reasoning does not count: <think> is removed before ACEBench reads the reply
        ("special_irrelevant_0", "<think>Due to the limitations of the function, I cannot.</think><tool_call>[]"
         "</tool_call>", "error_detection"),
        ("special_incomplete_1", "<think>x</think>Missing necessary parameters (foo) for the api (Bar)",
         "error_correction"),
        ("normal_atom_bool_0", "no tool call here", "acebench:wrong_output_format: format:no_tool_call"),
    ],
)  # fmt: skip
def test_special_and_format_failures(cases, acebench_root: str, item: str, completion: str, reason: str) -> None:
    verdict = acebench.score(next(c for c in cases if c.id == item), completion, acebench_root)
    assert not verdict.correct and verdict.error.startswith(reason), verdict.error


@pytest.mark.parametrize(
    ("calls", "text"),
    [
        ([{"name": "a.b", "arguments": {"x": "New York", "n": [1, 2.5], "ok": True, "z": None}}],
         "[a.b(x='New York', n=[1, 2.5], ok=True, z=None)]"),
        ([{"name": "f", "arguments": {}}, {"name": "g", "arguments": {"d": {"k": "it's"}}}],
         "[f(), g(d={'k': \"it's\"})]"),
        ([], "[]"),
    ],
)  # fmt: skip
def test_calls_to_acebench(calls: list, text: str) -> None:
    assert acebench.calls_to_acebench(calls) == text


def test_unsafe_names_never_reach_acebench_decoder(cases, acebench_root: str, tmp_path: Path) -> None:
    """ACEBench's decoder evals arithmetic (`eval(ast.unparse(BinOp))`): a crafted name must not get there."""
    marker = tmp_path / "pwned"
    evil = f"h(x=__import__('pathlib').Path({str(marker)!r}).touch()or 1+1,z=g"
    case = next(c for c in cases if c.id == "normal_atom_bool_0")
    for calls in ([{"name": evil, "arguments": {"k": 1}}], [{"name": "f", "arguments": {"x=1+1,y": 1}}],
                  [{"name": "class", "arguments": {}}]):  # fmt: skip
        verdict = acebench.score(case, _completion(calls), acebench_root)
        assert not verdict.correct and acebench.UNSAFE_NAME in verdict.error
    assert not marker.exists()


def test_multi_turn_accuracy_counts_whole_dialogues(cases, acebench_root: str) -> None:
    """normal_multi_turn: ACEBench scores a dialogue right only when every step is (its "end accuracy")."""
    prefixes = ("normal_multi_turn_user_adjust_0_", "normal_multi_turn_user_adjust_1_")
    mine = [c for c in cases if c.id.startswith(prefixes)]
    assert [c.id[-3:] for c in mine] == ["0_0", "0_1", "1_0", "1_1"]
    rows = [{"id": c.id, "completion": acebench.oracle_completion(c)} for c in mine]
    rows[1]["completion"] = "<think>x</think><tool_call>[]</tool_call>"  # one wrong step in dialogue 0
    assert acebench.category_accuracy(acebench_root, mine, rows) == {"normal_multi_turn_user_adjust": 50.0}
    single = [c for c in cases if c.category == "normal_atom_bool"][:4]
    rows = [{"id": c.id, "completion": acebench.oracle_completion(c)} for c in single]
    rows[0]["completion"] = "nothing"
    assert acebench.category_accuracy(acebench_root, single, rows) == {"normal_atom_bool": 75.0}


def test_prompt_carries_acebench_context(cases) -> None:
    by_id = {c.id: c for c in cases}
    text = by_id["normal_single_turn_parallel_function_0"].item.sample.messages[0]["content"]
    assert text.startswith("The current time is April 12, 2022, Tuesday")
    assert "Conversation history 1..t:\nuser: I need visual content created for Instagram" in text
    pref = by_id["normal_preference_0"].item.sample.messages[0]["content"]
    assert pref.startswith("Character Profile:\n{'basic_features': {'UserName': 'John Doe'")
    special = by_id["special_incomplete_0"].item.sample.messages[0]["content"]
    assert 'The output format should be: ["Missing necessary parameters (key1, key2, ...) for the api (ApiName)"]' \
        in special  # fmt: skip
    assert "Missing necessary" not in text


def test_category_names_are_checked() -> None:
    assert acebench.validate_categories(["special", "normal_atom_bool"]) == [*acebench.SPECIAL, "normal_atom_bool"]
    for bad, message in (("agent_multi_turn", "simulator"), ("normal_atom", "unknown ACEBench category")):
        with pytest.raises(UserError, match=message):
            acebench.validate_categories([bad])

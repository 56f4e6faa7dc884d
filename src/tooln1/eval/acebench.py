"""ACEBench normal and special categories, prompted with the Tool-N1 template and scored by ACEBench's own evaluator.

Data and scoring come from an ACEBench checkout (`--acebench-root`, a clone of ACEBench/ACEBench; not on PyPI):
items from `data_all/data_en/data_<category>.json`, answers from `possible_answer/`, and the verdict from the
repository's own evaluation driver `eval_main.py` (its per-category functions `normal_single_turn_eval`,
`normal_multi_turn_eval`, `special_eval`, which call `model_eval.checker`), imported from the checkout at run
time. Nothing of ACEBench is copied here. ACEBench is evaluation data: never train on it.

Categories: the 12 `normal_*` and 3 `special_*` ones (ACEBench `category.py`, a test checks they agree). The
`agent_*` categories need ACEBench's user/environment simulator and are left out.

Prompt: the Tool-N1 system prompt (`tooln1.prompt`, tools = the item's `function` list), then one user turn in
ACEBench's own user format (`model_inference.prompt_en.USER_PROMPT_EN`: "Conversation history 1..t:\\n…"),
preceded by the item's context line that ACEBench puts in its system prompt (`time`, or the `profile` of
`normal_preference`). Special items also get ACEBench's own rules for pointing out a problem (scenario 2 of
`SYSTEM_PROMPT_FOR_SPECIAL_DATA_EN`, cut from the checkout's prompt at run time), since the checker looks for
ACEBench's exact phrases ("Missing necessary parameters …") and the Tool-N1 template does not ask for them.

Conversion (what ACEBench's checker reads):
- normal: the LAST `<tool_call>` block (`tooln1.parsing`) as ACEBench's output syntax `[Name(key=value, …)]`, values
  written with `repr` (always literals); ACEBench then strips whitespace and decodes it with its `decode_ast`.
  A completion without a usable block is wrong (reason `format:*`), as a decode failure is in ACEBench. ACEBench's
  decoder `eval`s arithmetic and lambdas, so a function or parameter name that is not a (dotted) identifier is
  refused before the checker sees it (`acebench:unsafe_name`): no model output is ever evaluated.
- special: the reply with its `<think>` blocks removed, so reasoning alone cannot match ACEBench's phrases.

Category accuracy is ACEBench's own: the mean over items, except `normal_multi_turn_*`, where ACEBench scores a
dialogue as right only when all its steps are ("end accuracy", `category_accuracy`).

Example:
    >>> calls_to_acebench([{"name": "a.b", "arguments": {"x": "New York", "n": [1, 2]}}])
    "[a.b(x='New York', n=[1, 2])]"
    >>> cases = load_cases("../shared/acebench", ["normal_atom_bool"], limit=1)   # doctest: +SKIP
    >>> score(cases[0], oracle_completion(cases[0])).correct                      # doctest: +SKIP
    True
"""

from __future__ import annotations

import copy
import json
import keyword
import logging
import re
import sys
import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from tooln1.errors import UserError
from tooln1.eval.runner import EvalItem, Verdict
from tooln1.parsing import parse_completion
from tooln1.prompt import canonical_completion
from tooln1.types import Sample

logger = logging.getLogger(__name__)

# ACEBench category.py ACE_DATA_CATEGORY["normal"] and ["special"] (a test checks they agree), literal so that
# --help and argument checks need no checkout.
NORMAL = (
    "normal_single_turn_single_function", "normal_single_turn_parallel_function", "normal_multi_turn_user_adjust",
    "normal_multi_turn_user_switch", "normal_similar_api", "normal_preference", "normal_atom_bool",
    "normal_atom_enum", "normal_atom_number", "normal_atom_list", "normal_atom_object_deep",
    "normal_atom_object_short",
)  # fmt: skip
SPECIAL = ("special_incomplete", "special_error_param", "special_irrelevant")
CATEGORIES = NORMAL + SPECIAL
LEFT_OUT = ("agent_multi_step", "agent_multi_turn")  # need ACEBench's simulator
MODEL_NAME = "tooln1"  # the name ACEBench's driver gets; without "FC" its decoder parses our text output
UNSAFE_NAME = "acebench:unsafe_name"
DATA_DIR = Path("data_all") / "data_en"
_NAME_RE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*", re.ASCII)
_THINK_RE = re.compile(r"<think>.*?</think>", re.DOTALL)
_SPECIAL_RULES_START = "2. When the information provided by the user"


@dataclass(frozen=True)
class AceCase:
    """One ACEBench item: the prompt sample, the raw entry and answer row the checker sees."""

    item: EvalItem
    entry: dict[str, Any]
    answer: dict[str, Any]

    @property
    def id(self) -> str:
        return self.item.id

    @property
    def category(self) -> str:
        return self.item.category


class _Capture:
    """Stands in for the driver's file writers: keeps what `save_score_as_json` would have written."""

    def __init__(self) -> None:
        self.written: list[dict[str, Any]] = []

    def save_score_as_json(self, filename: str, data: list[dict[str, Any]], subdir: str | None = None) -> None:
        self.written = data

    @staticmethod
    def convert_result_to_excel(*args: Any, **kwargs: Any) -> None:  # the driver's per-run Excel copy: not wanted
        return None


def acebench(root: str | Path) -> types.SimpleNamespace:
    """ACEBench's driver, checker and English prompts from the checkout at `root` (see `_import`)."""
    return _import(str(Path(root).resolve()))


@lru_cache(maxsize=1)
def _import(root: str) -> types.SimpleNamespace:
    """Import ACEBench's driver, checker and English prompts from the checkout at `root` (one root per process).

    The driver writes score files and Excel sheets into folders relative to the working directory; its two writers
    are replaced by a capture, so nothing is written. The snapshot in `../shared/acebench` lacks the Chinese
    prompts (`model_inference/prompt_zh.py`) that `evaluation_helper` imports; an empty module stands in for them.
    """
    path = Path(root).resolve()
    if not (path / "eval_main.py").is_file() or not (path / "model_eval" / "checker.py").is_file():
        raise UserError(f"{root} is not an ACEBench checkout (needs eval_main.py and model_eval/checker.py)")
    for name in ("eval_main", "model_eval", "model_inference", "category"):
        mod = sys.modules.get(name)
        where = getattr(mod, "__file__", None) or next(iter(getattr(mod, "__path__", [])), None)
        if mod is not None and (where is None or not Path(where).resolve().is_relative_to(path)):
            raise UserError(f"a module named {name!r} from elsewhere is already imported; run ACEBench alone")
    if not (path / "model_inference" / "prompt_zh.py").is_file():
        sys.modules.setdefault("model_inference.prompt_zh", types.ModuleType("model_inference.prompt_zh"))
    saved = list(sys.path)
    sys.path.insert(0, str(path))
    try:
        import category
        import eval_main
        from model_eval import checker
        from model_inference import prompt_en
    except ImportError as e:
        raise UserError(f"ACEBench at {root} cannot be imported ({e}); it needs pandas and openpyxl") from None
    finally:
        sys.path[:] = saved  # eval_main appends "../"; keep our import path as it was
    capture = _Capture()
    eval_main.save_score_as_json = capture.save_score_as_json
    eval_main.convert_result_to_excel = capture.convert_result_to_excel
    eval_main.OUTPUT_PATH = ""  # a global of the driver's __main__ block, read when it names its output file
    return types.SimpleNamespace(
        root=path, driver=eval_main, checker=checker, prompts=prompt_en, categories=category.ACE_DATA_CATEGORY,
        capture=capture, paths=eval_main.get_paths("en"),
    )  # fmt: skip


def validate_categories(names: Iterable[str]) -> list[str]:
    """Expand "all", "normal", "special" and check names; agent or unknown names are a UserError."""
    groups = {"all": CATEGORIES, "normal": NORMAL, "special": SPECIAL}
    out: list[str] = []
    for name in names:
        if name in LEFT_OUT:
            raise UserError(f"{name} needs ACEBench's agent simulator and is not supported")
        if name not in CATEGORIES and name not in groups:
            valid = ", ".join(("all", "normal", "special", *CATEGORIES))
            raise UserError(f"unknown ACEBench category {name!r}; valid: {valid}")
        out.extend(c for c in groups.get(name, (name,)) if c not in out)
    return out


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, ValueError) as e:
        raise UserError(f"{path}: cannot read ACEBench data: {e}") from None


def user_message(entry: dict[str, Any], category: str, root: str) -> str:
    """The user turn: ACEBench's context line (time or profile), special rules, then its user prompt."""
    prompts = acebench(root).prompts
    parts = []
    if category == "normal_preference":
        parts.append(f"Character Profile:\n{entry.get('profile', '')}")
    elif entry.get("time"):
        parts.append(str(entry["time"]))
    if category in SPECIAL:
        text = prompts.SYSTEM_PROMPT_FOR_SPECIAL_DATA_EN
        start = text.find(_SPECIAL_RULES_START)
        end = text.find("{time}", start)
        if start < 0 or end < 0:
            raise UserError("this ACEBench version's special-data prompt has no scenario-2 rules to quote")
        rules = text[start + len("2. ") : end].strip()  # its own number only makes sense in ACEBench's prompt
        parts.append(f"If the request cannot be served by a call as it stands:\n{rules}")
    parts.append(prompts.USER_PROMPT_EN.format(question=entry["question"]))
    return "\n\n".join(parts)


@lru_cache(maxsize=2 * len(CATEGORIES))
def _load_category(root: str, category: str) -> tuple[AceCase, ...]:
    data = acebench(root).root / DATA_DIR
    entries = _read_jsonl(data / f"data_{category}.json")
    answers = {a["id"]: a for a in _read_jsonl(data / "possible_answer" / f"data_{category}.json")}
    cases = []
    for e in entries:
        if e["id"] not in answers:
            raise UserError(f"{data}: no possible answer for {e['id']}")
        messages = [{"role": "user", "content": user_message(e, category, root)}]
        sample = Sample(id=e["id"], source=f"acebench:{category}", tools=e["function"], messages=messages, gold=[])
        cases.append(AceCase(EvalItem(e["id"], category, sample), e, answers[e["id"]]))
    return tuple(cases)


def load_cases(root: str | Path, categories: Sequence[str], limit: int | None = None) -> list[AceCase]:
    """The items of each category in ACEBench's order; `limit` keeps the first N of each category."""
    out: list[AceCase] = []
    for cat in validate_categories(categories):
        out.extend(_load_category(str(root), cat)[:limit])
    return out


def calls_to_acebench(calls: list[dict[str, Any]]) -> str:
    """Calls in ACEBench's output syntax `[Name(key=value, ...)]`; ValueError for a name that is not safe to parse."""
    out = []
    for call in calls:
        name, args = call["name"], call["arguments"]
        if not isinstance(name, str) or not _NAME_RE.fullmatch(name) or any(map(keyword.iskeyword, name.split("."))):
            raise ValueError(f"function name {name!r} is not a (dotted) identifier")
        if not isinstance(args, dict):
            raise ValueError("arguments are not an object")
        bad = [k for k in args if not (isinstance(k, str) and k.isidentifier() and k.isascii())
               or keyword.iskeyword(k)]  # fmt: skip
        if bad:
            raise ValueError(f"parameter name {bad[0]!r} is not an identifier")
        out.append(f"{name}({', '.join(f'{k}={v!r}' for k, v in args.items())})")
    return f"[{', '.join(out)}]"


def checker_input(case: AceCase, completion: str) -> tuple[str | None, str | None]:
    """(text ACEBench's driver reads, None) or (None, our reason code) when the completion cannot be converted."""
    if case.category in SPECIAL:
        return _THINK_RE.sub("", completion).strip(), None
    parsed = parse_completion(completion)
    if parsed.calls is None:
        return None, parsed.error
    try:
        return calls_to_acebench(parsed.calls), None
    except ValueError as e:
        return None, f"{UNSAFE_NAME}: {e}"


def run_driver(root: str, category: str, results: list[dict[str, Any]], entries: list[dict[str, Any]],
               answers: list[dict[str, Any]]) -> tuple[float, list[dict[str, Any]]]:  # fmt: skip
    """ACEBench's own evaluation of a list of results of one category: (its accuracy, the rows it would write)."""
    ace = acebench(root)
    fn = ace.driver.special_eval if category in SPECIAL else ace.driver.normal_multi_turn_eval if \
        category.startswith("normal_multi_turn") else ace.driver.normal_single_turn_eval  # fmt: skip
    ace.capture.written = []
    accuracy = fn(results, copy.deepcopy(entries), copy.deepcopy(answers), category, MODEL_NAME, ace.paths)
    return float(accuracy), ace.capture.written


def check(case: AceCase, text: str, root: str) -> dict[str, Any]:
    """ACEBench's verdict for one item's checker input: {valid, error_type, error}."""
    _, written = run_driver(root, case.category, [{"id": case.id, "result": text}], [case.entry], [case.answer])
    summary, wrong = written[0], written[1:]
    if summary["correct_count"] == 1:
        return {"valid": True}
    first = wrong[0] if wrong else {}
    return {"valid": False, "error_type": first.get("error_type", "invalid"), "error": first.get("error")}


def score(case: AceCase, completion: str, root: str | Path) -> Verdict:
    """Verdict for one completion: ACEBench's validity and first error, our parsed calls."""
    calls = parse_completion(completion).calls
    text, reason = checker_input(case, completion)
    if text is None:
        return Verdict(False, f"acebench:wrong_output_format: {reason}", calls)
    result = check(case, text, str(root))
    if result["valid"]:
        return Verdict(True, None, calls)
    message = result.get("error")
    message = message[0] if isinstance(message, list) and message else message
    return Verdict(False, f"{result['error_type']}: {message}".rstrip(": "), calls)


def category_accuracy(root: str | Path, cases: Sequence[AceCase], rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """ACEBench's accuracy (%) of each category, from its driver run on the whole category's completions."""
    by_id = {r["id"]: r for r in rows}
    out: dict[str, float] = {}
    for cat in dict.fromkeys(c.category for c in cases):
        mine = [c for c in cases if c.category == cat]
        results = []
        for c in mine:
            text, _ = checker_input(c, by_id[c.id]["completion"])
            results.append({"id": c.id, "result": "" if text is None else text})  # "" fails to decode: wrong
        accuracy, _ = run_driver(str(root), cat, results, [c.entry for c in mine], [c.answer for c in mine])
        out[cat] = round(100.0 * accuracy, 2)
    return out


def _call_name(key: str, tools: list[dict[str, Any]]) -> str:
    """The function a possible-answer key stands for: ACEBench suffixes repeated calls with `_<n>`."""
    names = {t.get("name") for t in tools}
    return key if key in names else re.sub(r"_\d+$", "", key)


def oracle_completion(case: AceCase) -> str:
    """A Tool-N1 completion that says exactly what the (first) possible answer says."""
    gt = case.answer["ground_truth"]
    if case.category == "special_incomplete":
        text = "; ".join(f"Missing necessary parameters ({', '.join(p.strip() for p in params)}) for the api ({api})"
                         for api, params in gt.items())  # fmt: skip
        return f"<think>The request lacks required values.</think>{text}"
    if case.category == "special_error_param":
        text = " ".join(f"There is incorrect value ({', '.join(map(str, values))}) for the parameters ({param}) in "
                        "the conversation history." for param, values in gt.items())  # fmt: skip
        return f"<think>A value is wrong.</think>{text}"
    if case.category == "special_irrelevant":
        return f"<think>No function fits.</think>{gt}"
    first = gt[0] if isinstance(gt, list) else gt
    tools = case.entry["function"]
    return canonical_completion([{"name": _call_name(k, tools), "arguments": v} for k, v in first.items()])

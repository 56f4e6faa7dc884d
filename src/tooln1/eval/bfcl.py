"""BFCL single-turn categories, prompted with the Tool-N1 template and scored by bfcl-eval's own checker.

Data: the files shipped in the installed `bfcl-eval==2026.3.23` package (`bfcl_eval/data/BFCL_v4_<cat>.json`,
answers in `possible_answer/`), loaded with bfcl-eval's own `load_dataset_entry`. BFCL data is evaluation data:
never train on it.

Prompt: an entry becomes a `Sample` (tools = the entry's `function` list, messages = its question turn), rendered
by `tooln1.prompt.render_prompt` like every other sample. The functions shown are those BFCL's generation step
shows every model (with its language hints: Java/JavaScript parameters become strings "in string
representation"); the checker gets the entries without hints, as BFCL's evaluation step does. A system message in
the entry is dropped: the paper's handler (`QwenReasonHandler._format_prompt`) overwrote it with its own.

Scoring: our decoder plays the part of a BFCL handler's `decode_ast`: `tooln1.parsing.parse_completion`, then
`[{name: arguments}, ...]`; an unusable payload raises, which BFCL counts as a decode failure. Each item then goes
through bfcl-eval's per-entry evaluation (`eval_runner._evaluate_single_ast_entry`, which calls `ast_checker`, and
`_evaluate_single_relevance_entry`): irrelevance is correct iff no call decodes, relevance iff one does.
Deviation: the paper's handler decoded the FIRST `<tool_call>` block; we decode the LAST, like the training reward
(method §3.2, §5.1), so evaluation and training agree.

Isolation: bfcl-eval pins numpy 1.26.4 and friends, which clash with training, so it is installed with `--no-deps`
(Makefile `setup`) plus the few modules its checker imports (tree-sitter 0.21, tenacity, python-dotenv, overrides).
Its model registry (`bfcl_eval.constants.model_config`) would import every vendor SDK, so we pre-register a stub
holding one entry for us (`underscore_to_dot=False`: dotted function names stay dotted). bfcl-eval creates folders
under `BFCL_PROJECT_ROOT` at import; unless the user set it, that is a private temporary folder.

Example:
    >>> cases = load_cases(["simple_python"], limit=1)      # doctest: +SKIP
    >>> score(cases[0], '<think>x</think><tool_call>[{"name": "calculate_triangle_area", '
    ...       '"arguments": {"base": 10, "height": 5}}]</tool_call>').correct    # doctest: +SKIP
    True
"""

from __future__ import annotations

import atexit
import copy
import logging
import os
import shutil
import sys
import tempfile
import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from tooln1.errors import UserError
from tooln1.eval.runner import EvalItem, Verdict
from tooln1.parsing import parse_completion
from tooln1.types import Sample

# bfcl_eval.constants.category_mapping.SINGLE_TURN_CATEGORY (a test checks they agree), literal so that --help and
# argument checks need no bfcl-eval import.
CATEGORIES = (
    "simple_python", "simple_java", "simple_javascript", "multiple", "parallel", "parallel_multiple",
    "irrelevance", "live_simple", "live_multiple", "live_parallel", "live_parallel_multiple",
    "live_irrelevance", "live_relevance",
)  # fmt: skip
RELEVANCE_CATEGORIES = ("irrelevance", "live_irrelevance", "live_relevance")
logger = logging.getLogger(__name__)

CHECKER_ERROR = "bfcl:checker_error"
MODEL_NAME = "tooln1"  # our key in the stub registry; no "_", which BFCL would turn into "/"
BFCL_VERSION = "2026.3.23"


@lru_cache(maxsize=1)
def bfcl() -> types.SimpleNamespace:
    """Import the parts of bfcl-eval we use, isolated as the module docstring says."""
    if not os.environ.get("BFCL_PROJECT_ROOT"):
        root = tempfile.mkdtemp(prefix="tooln1-bfcl-")
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        os.environ["BFCL_PROJECT_ROOT"] = root
    if "bfcl_eval.constants.model_config" not in sys.modules:
        stub = types.ModuleType("bfcl_eval.constants.model_config")
        stub.MODEL_CONFIG_MAPPING = {MODEL_NAME: types.SimpleNamespace(underscore_to_dot=False, is_fc_model=False)}
        sys.modules[stub.__name__] = stub
    try:
        from bfcl_eval import utils
        from bfcl_eval.constants.enums import Language, ReturnFormat
        from bfcl_eval.eval_checker import eval_runner
        from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker
    except ImportError as e:
        raise UserError(
            f"bfcl-eval is not usable ({e}); run `make setup`, which installs bfcl-eval=={BFCL_VERSION} --no-deps"
        ) from None
    return types.SimpleNamespace(
        utils=utils, eval_runner=eval_runner, ast_checker=ast_checker, Language=Language, ReturnFormat=ReturnFormat
    )


@dataclass(frozen=True)
class BfclCase:
    """One BFCL entry: the prompt sample, the unhinted entry the checker sees, and the possible answers."""

    item: EvalItem
    check_entry: dict[str, Any]
    answer: list[dict[str, Any]] | None  # None for relevance/irrelevance (no possible answer)

    @property
    def id(self) -> str:
        return self.item.id

    @property
    def category(self) -> str:
        return self.item.category


def validate_categories(names: Iterable[str]) -> list[str]:
    """Expand "all" and check names; unknown names are a UserError listing the valid ones."""
    out: list[str] = []
    for name in names:
        if name not in CATEGORIES and name != "all":
            raise UserError(f"unknown BFCL category {name!r}; valid: all, {', '.join(CATEGORIES)}")
        out.extend(c for c in (CATEGORIES if name == "all" else (name,)) if c not in out)
    return out


def category_of(entry_id: str) -> str:
    """The category of a BFCL id ("live_simple_19-3-15" -> "live_simple"), by bfcl-eval's own rule."""
    return bfcl().utils.extract_test_category_from_id(entry_id)


def language(category: str) -> tuple[Any, Any]:
    """(Language, ReturnFormat) of a category, as bfcl-eval's `ast_file_runner` chooses them."""
    b = bfcl()
    if b.utils.is_java(category):
        return b.Language.JAVA, b.ReturnFormat.JAVA
    if b.utils.is_js(category):
        return b.Language.JAVASCRIPT, b.ReturnFormat.JAVASCRIPT
    return b.Language.PYTHON, b.ReturnFormat.PYTHON


def entry_to_sample(entry: dict[str, Any], category: str) -> Sample:
    """A BFCL entry as a Sample. `gold` stays empty: BFCL answers are sets of acceptable values, not one call list."""
    turn = entry["question"][0]  # single-turn categories have exactly one turn
    messages = [{"role": m["role"], "content": m["content"]} for m in turn if m["role"] != "system"]
    return Sample(id=entry["id"], source=f"bfcl:{category}", tools=entry["function"], messages=messages, gold=[])


@lru_cache(maxsize=len(CATEGORIES))
def _load_category(category: str) -> tuple[BfclCase, ...]:
    utils = bfcl().utils
    shown = utils.load_dataset_entry(category, include_prereq=False, include_language_specific_hint=True)
    plain = {e["id"]: e for e in utils.load_dataset_entry(category, include_prereq=False,
                                                          include_language_specific_hint=False)}  # fmt: skip
    answers = None
    if category not in RELEVANCE_CATEGORIES:
        answers = {e["id"]: e["ground_truth"] for e in utils.load_ground_truth_entry(category)}
    return tuple(
        BfclCase(
            item=EvalItem(e["id"], category, entry_to_sample(e, category)),
            check_entry=plain[e["id"]],
            answer=answers[e["id"]] if answers is not None else None,
        )
        for e in shown
    )


def load_cases(categories: Sequence[str], limit: int | None = None) -> list[BfclCase]:
    """The entries of each category, in BFCL's order; `limit` keeps the first N of each category."""
    out: list[BfclCase] = []
    for cat in validate_categories(categories):
        out.extend(_load_category(cat)[:limit])
    return out


@lru_cache(maxsize=len(CATEGORIES))
def _cases_by_id(category: str) -> dict[str, BfclCase]:
    return {c.id: c for c in _load_category(category)}


def case_for_id(entry_id: str) -> BfclCase:
    """The case of one BFCL id; KeyError when no single-turn category holds it."""
    category = category_of(entry_id)
    if category not in CATEGORIES:
        raise KeyError(entry_id)
    return _cases_by_id(category)[entry_id]


def decode_ast(completion: str) -> list[dict[str, Any]]:
    """BFCL's decoded form `[{name: arguments}, ...]` of the LAST `<tool_call>` block; ValueError if unusable."""
    parsed = parse_completion(completion)
    if parsed.calls is None:
        raise ValueError(parsed.error)
    return [{call["name"]: call["arguments"]} for call in parsed.calls]


class _Decoder:
    """The handler bfcl-eval's per-entry evaluation calls; it only ever uses `decode_ast`."""

    def decode_ast(self, result: str, language: Any = None, has_tool_call_tag: bool = False) -> list[dict]:
        return decode_ast(result)


def check(case: BfclCase, completion: str) -> dict[str, Any]:
    """bfcl-eval's own verdict dict for one completion (`valid`, and `error`/`error_type` when invalid)."""
    er = bfcl().eval_runner
    entry = copy.deepcopy(case.check_entry)  # the checker must never see state left by an earlier call
    if case.answer is None:
        return er._evaluate_single_relevance_entry(_Decoder(), case.id, completion, entry, MODEL_NAME, case.category)
    lang, fmt = language(case.category)
    return er._evaluate_single_ast_entry(
        _Decoder(), case.id, completion, copy.deepcopy(case.answer), entry, MODEL_NAME, case.category, lang, fmt
    )


def score(case: BfclCase, completion: str) -> Verdict:
    """Verdict for one completion: bfcl-eval's validity, its error type and first message, our parsed calls.

    bfcl-eval's checker is third-party code fed with model output; where it raises on a value it did not foresee
    (an argument nested past the recursion limit, an unhashable value), the completion is wrong with the reason
    `bfcl:checker_error: <exception>`, and the run goes on.
    """
    try:
        result = check(case, completion)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError) as e:
        logger.warning("%s: bfcl-eval's checker raised %s on a completion; scored as wrong", case.id, type(e).__name__)
        result = {"valid": False, "error_type": CHECKER_ERROR, "error": [f"{type(e).__name__}: {str(e)[:200]}"]}
    error = None
    if not result["valid"]:
        message = result.get("error") or [""]
        error = f"{result.get('error_type', 'invalid')}: {message[0]}".rstrip(": ")
    return Verdict(correct=bool(result["valid"]), error=error, calls=parse_completion(completion).calls)

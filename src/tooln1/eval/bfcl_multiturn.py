"""BFCL multi-turn categories: the agent loop in BFCL's own executable environments, scored by BFCL's own checker.

Data: `multi_turn_base`, `multi_turn_miss_func`, `multi_turn_miss_param`, `multi_turn_long_context` (200 entries
each) from the installed bfcl-eval, loaded with its `load_dataset_entry` (which attaches the function docs of the
entry's `involved_classes` and holds back `miss_func`'s functions) and `load_ground_truth_entry`. Evaluation data:
never train on it.

Loop: `tooln1.eval.multiturn` (prompt, execute, append results, until a reply makes no call; at most 20 executed
steps per turn, BFCL's bound). Calls run in the entry's environment instances through BFCL's own
`execute_multi_turn_func_call`, but only as strings we build from the parsed JSON calls
(`tooln1.eval.safe_calls.build_call`): the model's text never reaches BFCL's `eval`. A refused call runs nothing;
its tool message says why. Held-back `miss_func` functions join the tool list (the system text) at the turn BFCL
names, with BFCL's own "I have updated some more functions…" user message (its function-calling mode; its
prompting mode pastes the docs into the user turn instead, which our template does not need).

Scoring: bfcl-eval's `_evaluate_single_multi_turn_entry` (state checks and execution-response checks after each
turn, `multi_turn_checker`) on the executed call strings of each step, with its error type and message kept.
BFCL keeps environment instances in its module globals, keyed by model name and entry id; they are removed when
an episode closes, so every run (and the checker's replay) starts from the entry's initial state.

Example:
    >>> eps = load_episodes(["multi_turn_base"], limit=1)                                   # doctest: +SKIP
    >>> env = eps[0].make_env()                                                             # doctest: +SKIP
    >>> env.execute([{"name": "cd", "arguments": {"folder": "document"}}])[0].executed      # doctest: +SKIP
    "cd(folder='document')"
"""

from __future__ import annotations

import ast
import copy
import importlib
import inspect
import re
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

from tooln1.errors import UserError
from tooln1.eval.bfcl import MODEL_NAME, bfcl
from tooln1.eval.multiturn import CallResult, Episode
from tooln1.eval.runner import Verdict
from tooln1.eval.safe_calls import build_call, public_methods
from tooln1.prompt import canonical_completion
from tooln1.types import Sample

# bfcl_eval.constants.category_mapping.MULTI_TURN_CATEGORY (a test checks they agree).
MULTI_TURN_CATEGORIES = ("multi_turn_base", "multi_turn_miss_func", "multi_turn_miss_param",
                         "multi_turn_long_context")  # fmt: skip
GROUP = "multi_turn"
# The model-name variants under which BFCL's executor stores instances: our loop, the checker's replay of our
# calls, and the checker's replay of the ground truth.
_INSTANCE_OWNERS = (MODEL_NAME, f"{MODEL_NAME}_eval", f"{MODEL_NAME}_ground_truth_eval")


@lru_cache(maxsize=1)
def _mt() -> Any:
    """bfcl-eval's multi-turn modules (imported after `bfcl()` has isolated bfcl-eval)."""
    bfcl()
    from bfcl_eval.constants import default_prompts, executable_backend_config
    from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_utils

    return default_prompts, executable_backend_config, multi_turn_utils


def is_multi_turn(name: str) -> bool:
    return name == GROUP or name in MULTI_TURN_CATEGORIES


def validate_categories(names: Iterable[str]) -> list[str]:
    """Expand the `multi_turn` group; an unknown name is a UserError listing the valid ones."""
    out: list[str] = []
    for name in names:
        if not is_multi_turn(name):
            raise UserError(f"unknown BFCL multi-turn category {name!r}; valid: {GROUP}, "
                            f"{', '.join(MULTI_TURN_CATEGORIES)}")  # fmt: skip
        out.extend(c for c in (MULTI_TURN_CATEGORIES if name == GROUP else (name,)) if c not in out)
    return out


@lru_cache(maxsize=len(MULTI_TURN_CATEGORIES))
def _load_category(category: str) -> tuple[tuple[dict, dict, list], ...]:
    """(entry with hinted docs for the prompt, plain entry for the checker, ground truth) per entry."""
    utils = bfcl().utils
    shown = utils.load_dataset_entry(category, include_prereq=False, include_language_specific_hint=True)
    plain = {e["id"]: e for e in utils.load_dataset_entry(category, include_prereq=False,
                                                          include_language_specific_hint=False)}  # fmt: skip
    answers = {e["id"]: e["ground_truth"] for e in utils.load_ground_truth_entry(category)}
    return tuple((e, plain[e["id"]], answers[e["id"]]) for e in shown)


def instance_names(entry_id: str, classes: Iterable[str]) -> list[str]:
    """The global names BFCL's executor gives this entry's instances (its own naming rule)."""
    return [re.sub(r"[-./:]", "_", f"{owner}_{entry_id}_{cls}_instance") for owner in _INSTANCE_OWNERS
            for cls in classes]  # fmt: skip


class _Handler:
    """The handler BFCL's multi-turn evaluation calls: `decode_execute` gets each step's executed call strings."""

    def decode_execute(self, result: Any, has_tool_call_tag: bool = False) -> list[str]:
        if not isinstance(result, list) or not all(isinstance(s, str) for s in result):
            raise ValueError("not a list of call strings")
        return result


class BfclEnvironment:
    """One entry's BFCL instances, executing only call strings built by `build_call`."""

    def __init__(self, entry: dict[str, Any], category: str, answer: list[list[str]]) -> None:
        self.entry, self.category, self.answer = entry, category, answer
        self.id = entry["id"]
        self.long_context = "long_context" in category
        self.close()  # instances left by an earlier run of this entry in this process would carry its state
        _, instances = self._run([])
        self.instances: dict[str, Any] = instances
        self.methods = public_methods(instances.values())

    def _run(self, calls: list[str]) -> tuple[list[str], dict[str, Any]]:
        return _mt()[2].execute_multi_turn_func_call(
            calls, self.entry["initial_config"], self.entry["involved_classes"], MODEL_NAME, self.id,
            long_context=self.long_context, is_evaL_run=False,
        )  # fmt: skip

    def execute(self, calls: list[Any]) -> list[CallResult]:
        built = [build_call(c, self.methods) for c in calls]
        texts = [b.text for b in built if b.text is not None]
        results: Iterator[str] = iter(self._run(texts)[0] if texts else [])
        out = []
        for b in built:
            if b.text is not None:
                out.append(CallResult(b.text, next(results)))
            else:
                out.append(CallResult(None, f"Error during execution: call refused before execution ({b.reason})",
                                      b.reason))  # fmt: skip
        return out

    def score(self, turns: list[list[dict[str, Any]]]) -> Verdict:
        steps = [[step["executed"] for step in turn] for turn in turns]
        self.close()  # the checker replays from the initial state under its own names; start those clean too
        result = bfcl().eval_runner._evaluate_single_multi_turn_entry(
            _Handler(), self.id, steps, copy.deepcopy(self.answer), copy.deepcopy(self.entry), MODEL_NAME,
            self.category,
        )  # fmt: skip
        if result["valid"]:
            return Verdict(True, None, None)
        err = result.get("error") or {}
        message = err.get("error_message") or ""
        message = message[0] if isinstance(message, list) and message else message
        return Verdict(False, f"{err.get('error_type', 'invalid')}: {message}".rstrip(": "), None)

    def close(self) -> None:
        g = vars(_mt()[2])
        for name in instance_names(self.id, self.entry["involved_classes"]):
            g.pop(name, None)


def load_episodes(categories: Sequence[str], limit: int | None = None) -> list[Episode]:
    """The entries of each category as episodes, in BFCL's order; `limit` keeps the first N of each."""
    message = _mt()[0].DEFAULT_USER_PROMPT_FOR_ADDITIONAL_FUNCTION_FC
    out = []
    for cat in validate_categories(categories):
        for shown, plain, answer in _load_category(cat)[:limit]:
            out.append(Episode(
                id=shown["id"], category=cat, turns=shown["question"], tools=shown["function"],
                make_env=lambda p=plain, c=cat, a=answer: BfclEnvironment(p, c, a),
                added_tools={int(k): v for k, v in shown.get("missed_function", {}).items()},
                added_tools_message=message,
            ))  # fmt: skip
    return out


def ground_truth(category: str, entry_id: str) -> list[list[str]]:
    return next(a for e, _, a in _load_category(category) if e["id"] == entry_id)


@lru_cache(maxsize=64)
def _signature(cls_name: str, method: str) -> inspect.Signature:
    module = importlib.import_module(_mt()[1].CLASS_FILE_PATH_MAPPING[cls_name])
    return inspect.signature(getattr(getattr(module, cls_name), method))


def call_to_json(text: str, classes: Sequence[str]) -> dict[str, Any]:
    """A BFCL ground-truth call string (trusted data) as a JSON call; positional arguments get their names.

    Read with `ast` and `ast.literal_eval`, never run. Tuples become lists (JSON has no tuple).
    """
    node = ast.parse(text.strip(), mode="eval").body
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise ValueError(f"not a plain call: {text!r}")
    name = node.func.id
    modules = _mt()[1].CLASS_FILE_PATH_MAPPING
    owner = next((c for c in classes if hasattr(getattr(importlib.import_module(modules[c]), c), name)), None)
    if owner is None:
        raise ValueError(f"{name} is not a method of {classes}")
    args = [ast.literal_eval(a) for a in node.args]
    kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords}
    bound = _signature(owner, name).bind(None, *args, **kwargs)  # None stands for self
    arguments = {k: v for k, v in list(bound.arguments.items())[1:]}

    def jsonable(v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            return [jsonable(x) for x in v]
        if isinstance(v, dict):
            return {k: jsonable(x) for k, x in v.items()}
        return v

    return {"name": name, "arguments": jsonable(arguments)}


class GroundTruthBackend:
    """A scripted backend replaying BFCL's ground truth: the first step of turn t gives turn t's calls, the next
    ends the turn with `<tool_call>[]</tool_call>`. It reads the episode, turn and step from the sample id."""

    name = "ground-truth"

    def __init__(self, episodes: Sequence[Episode]) -> None:
        self.calls: dict[str, list[list[dict[str, Any]]]] = {}
        for ep in episodes:
            classes = next(p for e, p, _ in _load_category(ep.category) if e["id"] == ep.id)["involved_classes"]
            self.calls[ep.id] = [[call_to_json(c, classes) for c in turn] for turn in ground_truth(ep.category, ep.id)]

    def generate(self, samples: Sequence[Sample]) -> Iterator[tuple[int, str]]:
        for i, s in enumerate(samples):
            episode, _, pos = s.id.rpartition("#t")
            turn, step = (int(x) for x in pos.split("s"))
            calls = self.calls[episode][turn] if step == 0 else []
            yield i, canonical_completion(calls)

"""Tool-N1 rewards: four variants with the official semantics, plus TRL and verl adapters over one function.

| variant           | official code | rule                                                                     |
|-------------------|---------------|--------------------------------------------------------------------------|
| `binary`          | v0 (default)  | 1 iff think tags present AND calls match the gold exactly, else 0        |
| `binary_no_think` | v2            | 1 iff calls match, think not required                                    |
| `partial_think`   | v3            | 0.2 if think tags present, + 0.8 if calls match                          |
| `partial_name`    | v4            | 0.2 if think tags present, + 0.8 if calls match, else + 0.2 if the       |
|                   |               | multiset of call names matches                                           |

"Calls match" (method §3.2 step 7): if either side is empty, both must be; otherwise the multisets of
`(name, json.dumps(arguments, sort_keys=True))` are equal. So call order is free, multiplicity counts, dict key
order is free at every level, list order counts, and types are strict (5 != 5.0 != "5", true != 1).

Where the official code raises (e.g. `<tool_call>5</tool_call>`), the payload is unusable: no call credit, but the
partial variants still give their think credit. Nothing here raises on any completion string.

Example:
    >>> gold = '[{"name": "f", "arguments": {"x": 1}}]'
    >>> score('<think>ok</think><tool_call>[{"name": "f", "arguments": {"x": 1}}]</tool_call>', gold)
    RewardResult(score=1.0, reason='ok', has_think=True, format_ok=True, names_match=True)
    >>> score('<tool_call>[{"name": "f", "arguments": {"x": 1.0}}]</tool_call>', gold, "partial_name").score
    0.2
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from tooln1 import safejson
from tooln1.parsing import INVALID_JSON, MISSING_THINK, NO_TOOL_CALL, OK, parse_completion
from tooln1.types import ToolCall

COUNT_MISMATCH = "call:count_mismatch"
NAME_MISMATCH = "call:name_mismatch"
ARG_MISMATCH = "call:arg_mismatch"

VARIANTS = ("binary", "binary_no_think", "partial_think", "partial_name")
# The official `extra_info.prompt_type` values (method §3.4) and the variant each one selects.
OFFICIAL_PROMPT_TYPES = {
    "qwen": "binary",
    "qwen_wo_reason": "binary_no_think",
    "qwen_partial_reason": "partial_think",
    "qwen_partial_reason_funcname": "partial_name",
}
REASON_CODES = (
    OK, NO_TOOL_CALL, INVALID_JSON, MISSING_THINK, "call:not_list", "call:not_object", "call:missing_name",
    "call:missing_arguments", COUNT_MISMATCH, NAME_MISMATCH, ARG_MISMATCH,
)  # fmt: skip
# Cut points of common chat templates: the response starts after the last one (verl adapter only).
ASSISTANT_HEADERS = (
    "<|im_start|>assistant",
    "<|start_header_id|>assistant<|end_header_id|>",
    "<start_of_turn>model",
)


@dataclass(frozen=True, slots=True)
class RewardResult:
    """A score and why. `format_ok`: usable call list and think tags; `names_match`: name multisets equal."""

    score: float
    reason: str
    has_think: bool
    format_ok: bool
    names_match: bool


@dataclass(frozen=True, slots=True)
class _Gold:
    keys: list[str]
    names: list[str]


# `json.dumps(x, sort_keys=True)` builds a new JSONEncoder on every call; one shared encoder with the same settings
# gives the same text about 1.5x faster.
_SORTED_KEYS = json.JSONEncoder(sort_keys=True)


def _call_key(call: dict[str, Any]) -> str:
    # Equivalent to the official (name, json.dumps(arguments, sort_keys=True)) pair, as one comparable string.
    return _SORTED_KEYS.encode([call["name"], call["arguments"]])


def _make_gold(calls: list[Any]) -> _Gold:
    dicts = [c.to_dict() if isinstance(c, ToolCall) else ToolCall.from_dict(c).to_dict() for c in calls]
    # Bounded depth (and no lone surrogates or huge ints) before the recursive canonical keys: a malformed gold
    # is a ValueError (safejson.JsonProblem), never a RecursionError.
    safejson.check_value(dicts, "ground truth")
    return _Gold(keys=sorted(map(_call_key, dicts)), names=sorted(c["name"] for c in dicts))


@lru_cache(maxsize=65536)
def _gold_from_json(text: str) -> _Gold:
    data = safejson.loads(text, "ground truth")
    if not isinstance(data, list):
        raise ValueError(f"ground truth must be a JSON list of calls, got {type(data).__name__}")
    return _make_gold(data)


def to_gold(gold: str | Sequence[Any]) -> _Gold:
    """Normalise a gold call list given as a JSON string, a list of dicts or a list of `ToolCall`.

    Raises ValueError on a malformed gold (that is a data error, not a model error): not a list of
    `{"name", "arguments"}` objects, not JSON, or JSON that `tooln1.safejson` refuses (nested deeper than
    `safejson.MAX_DEPTH`, a huge number, a lone surrogate; a `safejson.JsonProblem`, a ValueError subclass).
    That is the only error type for any gold; no completion ever makes `score` raise.
    """
    if isinstance(gold, _Gold):
        return gold
    if isinstance(gold, str):
        return _gold_from_json(gold)
    if isinstance(gold, Sequence):
        return _make_gold(list(gold))
    raise ValueError(f"ground truth must be a list or a JSON string, got {type(gold).__name__}")


def _match(calls: list[dict[str, Any]], gold: _Gold) -> tuple[str, bool]:
    """(reason, names_match) for a structurally valid predicted list against the gold."""
    try:
        names_ok = sorted([c["name"] for c in calls]) == gold.names
    except TypeError:  # names of mixed JSON types do not sort; gold names are strings, so they cannot match
        names_ok = False
    if not calls or not gold.keys:
        return (OK if not calls and not gold.keys else COUNT_MISMATCH), names_ok
    if len(calls) != len(gold.keys):
        return COUNT_MISMATCH, names_ok
    if not names_ok:
        return NAME_MISMATCH, False
    try:
        keys = sorted(map(_call_key, calls))
    except (TypeError, ValueError, RecursionError):
        return ARG_MISMATCH, True
    return (OK if keys == gold.keys else ARG_MISMATCH), True


def score(completion: str, gold: str | Sequence[Any], variant: str = "binary") -> RewardResult:
    """Score one completion (generated text only) against a gold call list with the given variant."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown reward variant {variant!r}; valid: {', '.join(VARIANTS)}")
    g = to_gold(gold)
    p = parse_completion(completion)
    if p.calls is None:
        match, names_ok = p.error, False
    else:
        match, names_ok = _match(p.calls, g)
    correct = match == OK
    if variant == "binary_no_think":
        reason = match
        value = 1.0 if correct else 0.0
    else:
        reason = p.reason
        if reason == OK:
            reason = match
        if variant == "binary":
            value = 1.0 if reason == OK else 0.0
        else:
            bonus = 0.8 if correct else (0.2 if variant == "partial_name" and names_ok else 0.0)
            value = (0.2 if p.has_think else 0.0) + bonus
    return RewardResult(value, reason, p.has_think, p.calls is not None and p.has_think, names_ok)


def completion_text(completion: str | list[dict[str, Any]]) -> str:
    """The raw text of a TRL completion: a string, or a conversational list of message dicts."""
    if isinstance(completion, str):
        return completion
    return "".join(m["content"] for m in completion if isinstance(m.get("content"), str))


class TrlReward:
    """A TRL `GRPOTrainer` reward function: gold calls come in the `ground_truth` column as a JSON string.

    It also logs, through TRL's `log_metric`, the format, think and name-match rates and the rate of every
    reason code, so training curves show *why* rewards are 0. A class (not a closure) so that it pickles.
    """

    def __init__(self, variant: str = "binary") -> None:
        if variant not in VARIANTS:
            raise ValueError(f"unknown reward variant {variant!r}; valid: {', '.join(VARIANTS)}")
        self.variant = variant
        self.__name__ = f"tool_n1_{variant}"

    def __call__(self, completions: list[Any], ground_truth: list[Any], log_metric: Any = None, **_: Any) -> list:
        results = [score(completion_text(c), g, self.variant) for c, g in zip(completions, ground_truth, strict=True)]
        if log_metric is not None and results:
            for name, value in reward_rates(results).items():
                log_metric(name, value)
        return [r.score for r in results]


# Ready instances, one per variant, for entry points that take a dotted import path and call what they find:
# `trl grpo --reward_funcs tooln1.rewards.tool_n1_binary` (TRL would be handed a class by `...TrlReward`).
tool_n1_binary = TrlReward("binary")
tool_n1_binary_no_think = TrlReward("binary_no_think")
tool_n1_partial_think = TrlReward("partial_think")
tool_n1_partial_name = TrlReward("partial_name")


def reward_rates(results: Sequence[RewardResult]) -> dict[str, float]:
    """Rates over a batch: `format_rate`, `think_rate`, `name_match_rate` and `reason/<code>` for every code."""
    n = len(results)
    rates = {
        "format_rate": sum(r.format_ok for r in results) / n,
        "think_rate": sum(r.has_think for r in results) / n,
        "name_match_rate": sum(r.names_match for r in results) / n,
    }
    for code in REASON_CODES:
        rates[f"reason/{code}"] = sum(r.reason == code for r in results) / n
    return rates


def compute_score(
    data_source: str, solution_str: str, ground_truth: Any, extra_info: dict | None = None,
    variant: str | None = None, **_: Any,
) -> dict:  # fmt: skip
    """verl's custom reward entry point (`reward.custom_reward_function.path=<tooln1/train/verl_reward.py>`).

    The text is cut after the last assistant header of common chat templates, as the official code does for
    Qwen and LLaMA (old verl decoded prompt + response). The variant is, in this order: `variant` (verl passes
    `reward.custom_reward_function.reward_kwargs` as keyword arguments, so one run-level setting selects a paper
    Table 4 ablation), `extra_info["reward_variant"]` (per row), the official `extra_info["prompt_type"]` (an
    unsupported one raises), else `binary`. A run-level variant that contradicts a row's raises rather than
    silently picking one. Other keyword arguments verl adds (e.g. `reward_router_address`) are ignored. Returns
    only numbers, which verl logs.

    Example:
        >>> gold = '[{"name": "f", "arguments": {}}]'
        >>> compute_score("x", '<tool_call>[{"name": "f", "arguments": {}}]</tool_call>', gold)["score"]
        0.0
        >>> compute_score("x", '<tool_call>[{"name": "f", "arguments": {}}]</tool_call>', gold,
        ...               variant="binary_no_think")["score"]
        1.0
    """
    cut = max((solution_str.rfind(h) + len(h)) if h in solution_str else 0 for h in ASSISTANT_HEADERS)
    info = extra_info or {}
    row_variant = info.get("reward_variant")
    if variant and row_variant and variant != row_variant:
        raise ValueError(f"reward variant {variant!r} (reward_kwargs) contradicts the row's {row_variant!r}")
    variant = variant or row_variant
    if not variant:
        prompt_type = info.get("prompt_type") or "qwen"
        if prompt_type not in OFFICIAL_PROMPT_TYPES:
            # e.g. the official "llama" and "qwen_lexico" rules, which we do not implement: fail loudly rather than
            # silently train on a different reward.
            raise ValueError(f"unsupported prompt_type {prompt_type!r}; supported: {', '.join(OFFICIAL_PROMPT_TYPES)}")
        variant = OFFICIAL_PROMPT_TYPES[prompt_type]
    r = score(solution_str[cut:], ground_truth, variant)
    return {"score": r.score, "format_ok": float(r.format_ok), "think": float(r.has_think),
            "names_match": float(r.names_match)}  # fmt: skip

"""The held-out split of `tooln1 data`: binary-reward accuracy, format rate and per-reason rates.

Input: `DIR/test.jsonl`, one `Sample.to_json()` per line (what `tooln1 data` and `tooln1 data synth` write). Each
completion is scored with the training reward itself (`tooln1.rewards.score`, variant `binary`: think tags AND an
exact call match), so this number is the reward the policy would get on unseen samples. Items are reported per
`Sample.source` (xlam, toolace, synth, …).

Example:
    $ tooln1 eval heldout --data data/ --model runs/grpo --limit 200
    ## heldout: runs/grpo (hf, 2026-11-28, first 200)
    | category | n | correct | accuracy % |
    ...

    >>> summarize_rewards(["<think>x</think><tool_call>[]</tool_call>"], [[]])["accuracy"]
    100.0
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tooln1.errors import UserError
from tooln1.eval.runner import EvalItem, Verdict
from tooln1.parsing import OK, parse_completion
from tooln1.rewards import reward_rates, score as reward_score
from tooln1.train.data import read_samples
from tooln1.types import ToolCall

SPLIT_FILE = "test.jsonl"


def load_items(data_dir: str | Path, limit: int | None = None) -> list[EvalItem]:
    """Samples of `DIR/test.jsonl` in file order; `limit` keeps the first N."""
    root = Path(data_dir)
    if not root.is_dir():
        raise UserError(f"data dir not found: {root}")
    path = root / SPLIT_FILE
    if not path.is_file():
        raise UserError(f"test split not found: {path} (make one with `tooln1 data`)")
    return [EvalItem(s.id, s.source, s) for s in read_samples(path, limit)]


def score(item: EvalItem, completion: str) -> Verdict:
    """The binary training reward as a verdict: correct iff reward 1, error = the reward's reason code."""
    result = reward_score(completion, item.sample.gold, "binary")
    error = None if result.reason == OK else result.reason
    return Verdict(result.score == 1.0, error, parse_completion(completion).calls)


def summarize_rewards(completions: Sequence[str], golds: Sequence[list[ToolCall] | list[dict]]) -> dict[str, Any]:
    """Accuracy (%) and `tooln1.rewards.reward_rates` (format, think, name-match and reason rates, in %)."""
    results = [reward_score(c, g, "binary") for c, g in zip(completions, golds, strict=True)]
    if not results:
        return {"n": 0, "accuracy": None}
    rates = {k: round(100 * v, 2) for k, v in reward_rates(results).items()}
    return {"n": len(results), "accuracy": round(100 * sum(r.score for r in results) / len(results), 2), **rates}

"""Malformed ground truth fails with the one documented error (ValueError); model output never makes a reward raise.

Through every entry point: `score`, `TrlReward` (TRL) and `compute_score` (verl). The completions are the hostile
table of the scorer tests (tests/eval/test_scorers_hostile.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tooln1 import safejson
from tooln1.rewards import VARIANTS, TrlReward, compute_score, score

sys.path.insert(0, str(Path(__file__).resolve().parent / "eval"))
from test_scorers_hostile import COMPLETIONS  # noqa: E402

GOLD = '[{"name": "AddMeeting", "arguments": {"token": "a1"}}]'


def _deep_gold(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return [{"name": "f", "arguments": {"x": value}}]


BAD_GOLDS = [
    '[{"name": "f", "arguments": {"x": ' + "[" * 5000 + "]" * 5000 + "}}]",  # RecursionError in json.loads before
    "[" * 100_000,
    '[{"name": "f", "arguments": {"x": ' + "[" * 150 + "]" * 150 + "}}]",  # decodes, deeper than the bound
    _deep_gold(5000),  # a list already decoded: RecursionError in the canonical keys before
    _deep_gold(150),
    '[{"name": "f", "arguments": {"x": ' + "9" * 5000 + "}}]",
    '[{"name": "f", "arguments": {"x": "\\ud800"}}]',
    '[{"name": "f", "arguments": {"x": NaN}}]',
    '{"name": "f", "arguments": {}}', "[1]", '[{"name": 1, "arguments": {}}]', '[{"name": "f", "arguments": []}]',
    '[{"name": "f"}]', "not json", "", 5, None, {"name": "f"}, [None], [["f", {}]],
]  # fmt: skip


@pytest.mark.parametrize("gold", BAD_GOLDS, ids=range(len(BAD_GOLDS)))
def test_a_malformed_gold_is_a_value_error_through_every_entry_point(gold: object) -> None:
    completion = '<think>t</think><tool_call>[{"name": "f", "arguments": {}}]</tool_call>'
    with pytest.raises(ValueError):
        score(completion, gold)
    with pytest.raises(ValueError):
        TrlReward()([completion], [gold])
    with pytest.raises(ValueError):
        compute_score("x", completion, gold)


def test_deep_gold_names_its_reason() -> None:
    with pytest.raises(safejson.JsonProblem) as e:
        score("", BAD_GOLDS[0])
    assert e.value.reason == safejson.TOO_DEEP and "ground truth" in str(e.value)


def test_no_hostile_completion_makes_any_reward_raise() -> None:
    n = 0
    for completion in COMPLETIONS:
        for variant in VARIANTS:
            assert score(completion, GOLD, variant).score in (0.0, 0.2, 0.4)  # think and name credit at most
            n += 1
        assert TrlReward()([completion, [{"role": "assistant", "content": completion}]], [GOLD, GOLD]) == [0.0, 0.0]
        assert compute_score("x", "<|im_start|>assistant" + completion, GOLD)["score"] == 0.0
    assert n == 4 * len(COMPLETIONS)
    assert json.loads(GOLD)  # the gold itself is fine

"""Tests for `tooln1.train.rollout`: the refill bookkeeping, and a real GRPO run (with probes) through the rollout.

Example:
    .venv/bin/pytest tests/train/test_rollout.py -q
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from train_samples import make_samples
from transformers import AutoTokenizer

from tooln1.prompt import canonical_completion
from tooln1.train.callbacks import read_metrics
from tooln1.train.config import load_config
from tooln1.train.rollout import Rollout, end_at_stop, zero_std_groups
from tooln1.train.run import train
from tooln1.types import calls_to_json


@pytest.mark.parametrize(
    ("rewards", "group", "flat"),
    [
        ([0, 0, 0, 0], 4, [0]),
        ([0, 1, 0, 0, 1, 1, 1, 1], 4, [1]),
        ([0.2, 0.2, 1.0, 0.2], 2, [0]),
        ([1, 0, 0, 1], 2, []),
        ([], 4, []),
    ],
)
def test_zero_std_groups(rewards: list[float], group: int, flat: list[int]) -> None:
    assert zero_std_groups(rewards, group) == flat


class _Scripted(Rollout):
    """The refill logic with scripted completions: a prompt in `solved` gets one right answer in its group."""

    def __init__(self, prompts: list[str], golds: list[str], solved: set[str]) -> None:
        super().__init__(prompts, golds, "binary", refill_rounds=1)
        self.solved, self.generated = solved, []
        self._checked = True

    def _generate(self, trainer: Any, prompts: list[str]) -> tuple[list, list, list]:
        self.generated.append(prompts)
        texts = []
        for k, p in enumerate(prompts):
            right = p in self.solved and k % trainer.num_generations == 0
            texts.append(canonical_completion(json.loads(self.gold[p])) if right else "no call")
        rows = [trainer.processing_class(t)["input_ids"] for t in texts]
        return [[0]] * len(prompts), rows, [[1] * len(r) for r in rows]


class _Trainer:
    def __init__(self, tokenizer: Any) -> None:
        self.num_generations, self.processing_class, self.logged = 2, tokenizer, {}

    def _log_metric(self, name: str, value: float) -> None:
        self.logged[name] = value


@pytest.mark.parametrize("fresh_solvable", [True, False])
def test_refill_replaces_flat_groups_with_informative_ones_and_carries_their_gold(
    tiny_model_dir: Path, fresh_solvable: bool
) -> None:
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    samples = make_samples()
    prompts = [f"prompt {i}" for i in range(len(samples))]
    golds = [calls_to_json(s.gold) for s in samples]
    solved = {prompts[1], *(prompts[2:] if fresh_solvable else ())}
    rollout = _Scripted(prompts, golds, solved)
    trainer = _Trainer(tok)
    out = rollout([prompts[0]] * 2 + [prompts[1]] * 2, trainer)  # group 0 flat (all wrong), group 1 informative
    refill = rollout.generated[1]
    assert len(refill) == 2 and refill[0] == refill[1] and refill[0] not in prompts[:2]  # one fresh group
    assert out["ground_truth"][2:] == [golds[1]] * 2  # the informative group stays
    if fresh_solvable:  # the fresh group is informative: it takes the flat slot, with its own gold
        assert out["ground_truth"][:2] == [rollout.gold[refill[0]]] * 2 != [golds[0]] * 2
        assert trainer.logged["rollout/refilled_groups"] == 0.5
    else:  # no informative group came back: the flat group stays as it was
        assert out["ground_truth"][:2] == [golds[0]] * 2
        assert trainer.logged["rollout/refilled_groups"] == 0.0
    assert trainer.logged["rollout/zero_std_groups"] == 0.5 and trainer.logged["rollout/extra_completions"] == 2.0
    assert trainer.logged["rollout/reward_as_drawn"] == 0.25  # one right answer among the 4 as first drawn
    assert len(out["prompt_ids"]) == len(out["completion_ids"]) == 4


def test_grpo_through_the_rollout_trains_logs_and_probes(
    tiny_recipe: Path, tiny_model_dir: Path, samples_file: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.jsonl").write_text(samples_file.read_text())
    (data / "test.jsonl").write_text(samples_file.read_text())
    argv = [f"--output_dir={tmp_path / 'run'}", "--model", str(tiny_model_dir), "--data", str(data),
            "--rollout.refill_rounds", "1", "--probe.every", "1", "--probe.n", "3", "--probe.max_new_tokens", "4"]
    run = train(load_config(tiny_recipe, argv, mode="grpo"))
    metrics = read_metrics(run)
    assert [m["step"] for m in metrics] == [1, 2]
    for m in metrics:  # a random model scores 0 everywhere: every group is flat and one refill round is tried
        assert m["rollout/zero_std_groups"] == 1.0 and m["rollout/extra_completions"] == 4.0
        assert m["rollout/reward_as_drawn"] == 0.0
        assert m["completions/mean_length"] > 0
    probes = [json.loads(line) for line in (run / "probe.jsonl").read_text().splitlines()]
    assert [p["step"] for p in probes] == [0, 1, 2]
    assert all(p["n"] == 3 and p["accuracy"] == 0.0 for p in probes)
    minutes = [p["train_minutes"] for p in probes]
    assert minutes == sorted(minutes) and minutes[0] == 0.0


def test_refill_with_no_prompt_left_to_draw_keeps_the_batch(tiny_model_dir: Path) -> None:
    """A training set no larger than the batch (e.g. two samples): nothing to refill with, the batch stays."""
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    golds = [calls_to_json(s.gold) for s in make_samples()[:2]]
    rollout = _Scripted(["a", "b"], golds, solved=set())
    trainer = _Trainer(tok)
    out = rollout(["a", "a", "b", "b"], trainer)
    assert len(rollout.generated) == 1 and out["ground_truth"] == [golds[0]] * 2 + [golds[1]] * 2
    assert trainer.logged["rollout/refilled_groups"] == 0.0 and trainer.logged["rollout/extra_completions"] == 0.0


def test_end_at_stop_cuts_after_the_stop_string_and_closes_with_an_unlearned_eos(tiny_model_dir: Path) -> None:
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    eos, pad = tok.eos_token_id, tok.pad_token_id
    call = '<think>f</think><tool_call>[{"name": "f", "arguments": {}}]</tool_call>'
    stopped = tok(call + " and then", add_special_tokens=False).input_ids + [pad, pad]  # as generate pads it
    plain = tok("no call here", add_special_tokens=False).input_ids
    ended = plain + [eos]
    rows, masks = end_at_stop([stopped, plain, ended], tok, ["</tool_call>"], [eos])
    assert tok.decode(rows[0][:-1]) == call and rows[0][-1] == eos  # nothing after the stop string survives
    assert masks[0] == [1] * (len(rows[0]) - 1) + [0]  # the appended EOS was not sampled: no loss on it
    assert (rows[1], masks[1]) == (plain, [1] * len(plain))  # cut at the length cap: left for TRL to mask
    assert (rows[2], masks[2]) == (ended, [1] * len(ended))  # the model stopped by itself

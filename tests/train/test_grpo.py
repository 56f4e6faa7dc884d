"""Tests for `tooln1.train.grpo`: zero-advantage rows leave the loss pass with the gradient unchanged.

Example:
    .venv/bin/pytest tests/train/test_grpo.py -q
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from trl import GRPOTrainer

from tooln1.train.callbacks import read_metrics
from tooln1.train.config import load_config
from tooln1.train.grpo import SkipFlatRowsGRPOTrainer, informative_rows
from tooln1.train.run import train

EXACT = ["--beta", "0", "--entropy_coef", "0"]  # the tiny recipe's KL term and entropy bonus make skipping inexact


def batch(advantages: list[float]) -> dict[str, Any]:
    """A left-padded prompt / right-padded completion micro-batch, one row per advantage (rows of a 3-row table)."""
    prompts = [[0, 0, 0, 11, 12], [0, 13, 14, 15, 16], [0, 0, 17, 18, 19]]
    completions = [[21, 22, 0, 0], [23, 0, 0, 0], [24, 25, 26, 27]]
    n = len(advantages)
    p, c = torch.tensor(prompts[:n]), torch.tensor(completions[:n])
    return {"prompt_ids": p, "prompt_mask": (p != 0).long(), "completion_ids": c,
            "completion_mask": (c != 0).long(), "old_per_token_logps": -c.float(),
            "advantages": torch.tensor(advantages), "num_items_in_batch": torch.tensor(7)}  # fmt: skip


@pytest.mark.parametrize(
    ("advantages", "prompts", "completions"),
    [
        ([0.5, -0.5, 1.0], [[0, 0, 11, 12], [13, 14, 15, 16], [0, 17, 18, 19]],
         [[21, 22, 0, 0], [23, 0, 0, 0], [24, 25, 26, 27]]),  # all kept: only the all-padding column goes
        ([0.5, 0.0, 0.0], [[11, 12]], [[21, 22]]),  # one row: its own padding goes too
        ([0.0, -0.3, 0.0], [[13, 14, 15, 16]], [[23]]),
        ([0.5, 0.0, 1.0], [[0, 11, 12], [17, 18, 19]], [[21, 22, 0, 0], [24, 25, 26, 27]]),
    ],
)  # fmt: skip
def test_informative_rows_keeps_rows_with_an_advantage_and_the_columns_they_use(
    advantages: list[float], prompts: list[list[int]], completions: list[list[int]]
) -> None:
    kept = informative_rows(batch(advantages))
    assert kept is not None
    assert kept["prompt_ids"].tolist() == prompts and kept["completion_ids"].tolist() == completions
    assert kept["prompt_mask"].tolist() == [[int(t != 0) for t in row] for row in prompts]
    assert kept["old_per_token_logps"].tolist() == [[-float(t) for t in row] for row in completions]
    assert kept["num_items_in_batch"].item() == 7  # the generation batch's token count: the loss's normaliser


def test_informative_rows_is_none_when_every_row_is_flat_and_leaves_unknown_batches_alone() -> None:
    assert informative_rows(batch([0.0, 0.0, 0.0])) is None
    multimodal = {**batch([0.0, 0.5]), "pixel_values": torch.zeros(2, 3)}
    assert informative_rows(multimodal) is multimodal


def _trainer(tiny_recipe: Path, model_dir: Path, data: Path, tmp_path: Path, extra: list[str]) -> Any:
    from tooln1.train.data import build_dataset, load_prompt_template, read_samples
    from tooln1.train.grpo import build_trainer
    from tooln1.train.run import _trainer_args, load_policy

    cfg = load_config(tiny_recipe, ["--model", str(model_dir), "--data", str(data), "--output_dir",
                                    str(tmp_path / "run"), *extra], mode="grpo")  # fmt: skip
    model, tok, _ = load_policy(cfg)
    template = load_prompt_template(None)
    dataset, _ = build_dataset(read_samples(cfg.data), tok, "grpo", template, cfg.max_prompt_tokens, cfg.sft_target)
    trainer = build_trainer(cfg, _trainer_args(cfg), model, tok, dataset, None, [])
    trainer.current_gradient_accumulation_steps = 1  # set by the training loop; compute_loss reads it
    return trainer


def _grads(trainer: Any, compute_loss: Any, inputs: dict[str, Any]) -> tuple[float, list[torch.Tensor]]:
    trainer.model.zero_grad()
    loss = compute_loss(trainer, trainer.model, inputs)
    loss.backward()
    return loss.item(), [p.grad.clone() if p.grad is not None else torch.zeros_like(p)
                         for p in trainer.model.parameters() if p.requires_grad]  # fmt: skip


def test_skipping_flat_rows_gives_trl_s_loss_and_gradient(tiny_recipe: Path, tiny_model_dir: Path,
                                                           samples_file: Path, tmp_path: Path) -> None:  # fmt: skip
    trainer = _trainer(tiny_recipe, tiny_model_dir, samples_file, tmp_path, EXACT)
    assert trainer.skip_flat_rows
    trainer.model.train()
    inputs = batch([0.7, 0.0, -1.2])
    inputs.pop("old_per_token_logps")  # on-policy: TRL uses the detached current log-probs
    ours_loss, ours = _grads(trainer, SkipFlatRowsGRPOTrainer.compute_loss, inputs)
    trl_loss, theirs = _grads(trainer, GRPOTrainer.compute_loss, inputs)
    assert ours_loss == pytest.approx(trl_loss, abs=1e-6)
    assert any(g.abs().sum() > 0 for g in theirs)  # the batch does carry a gradient
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    flat_loss, flat = _grads(trainer, SkipFlatRowsGRPOTrainer.compute_loss, batch([0.0, 0.0, 0.0]))
    assert flat_loss == 0.0 and all(g.abs().sum() == 0 for g in flat)


@pytest.mark.parametrize("extra", [[], [*EXACT, "--skip_flat_rows", "false"]])
def test_a_kl_term_or_the_switch_keeps_trl_s_loss_pass(tiny_recipe: Path, tiny_model_dir: Path, samples_file: Path,
                                                       tmp_path: Path, extra: list[str]) -> None:  # fmt: skip
    assert not _trainer(tiny_recipe, tiny_model_dir, samples_file, tmp_path, extra).skip_flat_rows  # [] : beta 0.001


def test_a_run_whose_every_group_is_flat_trains_through_the_skip(
    tiny_recipe: Path, tiny_model_dir: Path, samples_file: Path, tmp_path: Path
) -> None:
    """A random model scores 0 everywhere: every row is skipped, and the optimizer steps on a zero gradient."""
    run = train(load_config(tiny_recipe, ["--model", str(tiny_model_dir), "--data", str(samples_file),
                                          f"--output_dir={tmp_path / 'run'}", *EXACT], mode="grpo"))  # fmt: skip
    metrics = read_metrics(run)
    assert [m["step"] for m in metrics] == [1, 2]
    assert all(m["reward"] == 0.0 and m["grad_norm"] == 0.0 and m["loss"] == 0.0 for m in metrics)

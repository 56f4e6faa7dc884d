"""The GRPO trainer: TRL's `GRPOTrainer` with the Tool-N1 reward, and one measured override (zero-advantage rows).

Example:
    $ tooln1 train grpo --config configs/cpu_demo.yaml --data runs/data --max_steps 4

Everything that matters for the method is configuration (configs/tool_n1_qwen2.5_7b.yaml maps every paper
hyperparameter, method §4.2): the reward is `tooln1.rewards.TrlReward(variant)`, which reads the `ground_truth`
column and logs format/think/name-match rates and a rate per reason code through TRL's `log_metric`; the prompts
are plain strings that already carry each sample's tools, so TRL's global `tools=` stays unused. With a
`rollout:` mapping in the recipe, generation goes through TRL's `rollout_func` extension point
(`tooln1.train.rollout`: each prompt prefilled once for its G completions, optional dynamic sampling).

**Why a subclass.** A group whose G rewards are all equal has advantage 0 on every completion; with no KL term
(beta 0) and a loss normalised by the generation batch's token count (`dapo`, `cispo`), such a row adds exactly 0
to the loss and to every gradient. TRL still runs its forward and backward pass. `SkipFlatRowsGRPOTrainer`
drops those rows from each micro-batch before TRL's own loss (and the padding columns no kept row uses), and skips
the pass when no row is left: the same gradient, less work. Measured (2026-12-03, 2 cores, configs/cpu_demo.yaml):
from a 30-step SFT warm-up with one refill round (35 % of groups still flat), 5 steps, same seed, the training half
of a step took 7.4 s instead of 13.4 s (the whole step 22.0 s instead of 28.0 s); from the demo's 10-step warm-up
without refill (88 % flat), 10.2 s instead of 22.3 s per step (benchmarks/bench_rollout.py). Where it would not
be exact (a KL term, an entropy bonus or entropy mask, a per-row loss normalisation, several processes whose passes
must stay in step, multimodal inputs), the override stands aside and TRL's loss runs unchanged;
`skip_flat_rows: false` in a recipe turns it off (e.g. to log TRL's `entropy`, which is otherwise taken over the
kept rows only).

    >>> import torch
    >>> kept = informative_rows({"prompt_ids": torch.tensor([[0, 0, 5, 6], [0, 7, 8, 9]]),
    ...     "prompt_mask": torch.tensor([[0, 0, 1, 1], [0, 1, 1, 1]]), "completion_ids": torch.tensor([[3, 1, 0],
    ...     [4, 0, 0]]), "completion_mask": torch.tensor([[1, 1, 0], [1, 0, 0]]),
    ...     "advantages": torch.tensor([0.0, 0.5]), "num_items_in_batch": torch.tensor(3)})
    >>> kept["prompt_ids"].tolist(), kept["completion_ids"].tolist(), kept["num_items_in_batch"].item()
    ([[7, 8, 9]], [[4]], 3)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import torch
import trl
from trl import GRPOTrainer

from tooln1.rewards import TrlReward
from tooln1.train.config import TrainConfig

logger = logging.getLogger(__name__)

# What the override relies on, checked against TRL 1.16.0's GRPOTrainer: `compute_loss` receives one micro-batch
# holding exactly these keys, and these loss types divide by `num_items_in_batch` (the whole generation batch).
SKIP_TRL_TESTED = "1.16.0"
EXACT_LOSS_TYPES = ("dapo", "cispo")
PROMPT_KEYS = ("prompt_ids", "prompt_mask")
COMPLETION_KEYS = ("completion_ids", "completion_mask", "tool_mask", "old_per_token_logps",
                   "sampling_per_token_logps", "ref_per_token_logps", "importance_sampling_ratio")  # fmt: skip
OTHER_KEYS = ("advantages", "num_items_in_batch")


def informative_rows(inputs: dict[str, Any]) -> dict[str, Any] | None:
    """The micro-batch without its rows of advantage 0 (or no completion token), trimmed to the prompt and
    completion columns a kept row uses; None when no row is left. A batch with a key outside TRL's text-only
    GRPO batch comes back unchanged.

    Trimming left-padding columns shifts every kept row's positions by the same amount; rotary attention depends
    only on position differences, so the log-probabilities are the same up to float rounding.
    """
    if set(inputs) - {*PROMPT_KEYS, *COMPLETION_KEYS, *OTHER_KEYS}:
        return inputs
    adv, cmask = inputs["advantages"], inputs["completion_mask"]
    keep = (adv != 0 if adv.dim() == 1 else (adv != 0).any(-1)) & cmask.bool().any(-1)
    if not keep.any():
        return None
    rows = keep.numel()
    out = {k: v[keep] if torch.is_tensor(v) and v.dim() and v.size(0) == rows else v for k, v in inputs.items()}
    first = int(out["prompt_mask"].bool().any(0).nonzero()[0])
    width, last = cmask.size(1), int(out["completion_mask"].bool().any(0).nonzero()[-1]) + 1
    for key in PROMPT_KEYS:
        out[key] = out[key][:, first:]
    for key in COMPLETION_KEYS:
        value = out.get(key)
        if torch.is_tensor(value) and value.dim() == 2 and value.size(1) == width:
            out[key] = value[:, :last]
    return out


class SkipFlatRowsGRPOTrainer(GRPOTrainer):
    """`trl.GRPOTrainer` that leaves zero-advantage rows out of the loss's forward and backward (module doc)."""

    def __init__(self, *args: Any, skip_flat_rows: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.skip_flat_rows = skip_flat_rows and self._skip_is_exact()
        logger.info("zero-advantage rows: %s", "skipped in the loss pass" if self.skip_flat_rows else "TRL's loss")

    def _skip_is_exact(self) -> bool:
        a = self.args
        exact = (self.beta == 0.0 and a.loss_type in EXACT_LOSS_TYPES and self.top_entropy_quantile == 1.0
                 and not a.entropy_coef and not a.use_adaptive_entropy and a.off_policy_mask_threshold is None
                 and self.accelerator.num_processes == 1 and not getattr(self, "aux_loss_enabled", False))  # fmt: skip
        if exact and trl.__version__ != SKIP_TRL_TESTED:
            logger.warning("TRL %s: zero-advantage rows are kept (the skip was checked on TRL %s)", trl.__version__,
                           SKIP_TRL_TESTED)  # fmt: skip
            return False
        return exact

    def compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool = False,
                     num_items_in_batch: Any = None) -> Any:  # fmt: skip
        if self.skip_flat_rows and not return_outputs:
            kept = informative_rows(inputs)
            if kept is None:  # every row adds 0: a zero loss that still reaches the trainable weights for backward
                return sum((p * 0.0).sum() for p in model.parameters() if p.requires_grad)
            inputs = kept
        return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)


def build_trainer(
    cfg: TrainConfig, args: Any, model: Any, tokenizer: Any, dataset: Any, peft_config: Any, callbacks: Sequence[Any]
) -> Any:
    """A ready `SkipFlatRowsGRPOTrainer` (with LoRA, the reference policy is the base model with the adapter off)."""
    rollout = None
    if cfg.rollout is not None:
        from tooln1.train.rollout import Rollout

        r = cfg.rollout
        rollout = Rollout(dataset["prompt"], dataset["ground_truth"], cfg.reward, int(r.get("refill_rounds", 0)),
                          seed=args.seed, stop_strings=r.get("stop_strings") or ())  # fmt: skip
    return SkipFlatRowsGRPOTrainer(
        model=model,
        reward_funcs=TrlReward(cfg.reward),
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=list(callbacks),
        rollout_func=rollout,
        skip_flat_rows=cfg.skip_flat_rows,
    )

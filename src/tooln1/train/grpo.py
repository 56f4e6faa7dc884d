"""The GRPO trainer: TRL's `GRPOTrainer`, configured, not subclassed, with the Tool-N1 reward.

Example:
    $ tooln1 train grpo --config configs/cpu_demo.yaml --data runs/data --max_steps 4

Everything that matters for the method is configuration (configs/tool_n1_qwen2.5_7b.yaml maps every paper
hyperparameter, method §4.2): the reward is `tooln1.rewards.TrlReward(variant)`, which reads the `ground_truth`
column and logs format/think/name-match rates and a rate per reason code through TRL's `log_metric`; the prompts
are plain strings that already carry each sample's tools, so TRL's global `tools=` stays unused. With a
`rollout:` mapping in the recipe, generation goes through TRL's `rollout_func` extension point
(`tooln1.train.rollout`: each prompt prefilled once for its G completions, optional dynamic sampling).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tooln1.rewards import TrlReward
from tooln1.train.config import TrainConfig


def build_trainer(
    cfg: TrainConfig, args: Any, model: Any, tokenizer: Any, dataset: Any, peft_config: Any, callbacks: Sequence[Any]
) -> Any:
    """A ready `trl.GRPOTrainer` (with LoRA, the reference policy is the base model with the adapter disabled)."""
    from trl import GRPOTrainer

    rollout = None
    if cfg.rollout is not None:
        from tooln1.train.rollout import Rollout

        r = cfg.rollout
        rollout = Rollout(dataset["prompt"], dataset["ground_truth"], cfg.reward, int(r.get("refill_rounds", 0)),
                          seed=args.seed, stop_strings=r.get("stop_strings") or ())  # fmt: skip
    return GRPOTrainer(
        model=model,
        reward_funcs=TrlReward(cfg.reward),
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=list(callbacks),
        rollout_func=rollout,
    )

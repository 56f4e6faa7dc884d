"""The SFT baseline: TRL's `SFTTrainer` on the same samples and prompt, loss on the completion only.

Example:
    $ tooln1 train sft --config configs/cpu_demo.yaml --data runs/data --output_dir runs/sft
    $ tooln1 train grpo --config configs/cpu_demo.yaml --data runs/data --model runs/sft   # SFT -> RL

Rows are prompt-completion pairs (tooln1.train.data): the target is `<think>{reasoning}</think>\\n<tool_call>[gold]`
`</tool_call>` plus EOS when the sample has a reasoning trace, else the paper's no-reason variant (method §1.8):
the bare call block, under a prompt whose instructions do not ask for a think step. SFTTrainer's default
`completion_only_loss` masks the prompt tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tooln1.train.config import TrainConfig


def build_trainer(
    cfg: TrainConfig, args: Any, model: Any, tokenizer: Any, dataset: Any, peft_config: Any, callbacks: Sequence[Any]
) -> Any:
    """A ready `trl.SFTTrainer`."""
    from trl import SFTTrainer

    return SFTTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=list(callbacks),
    )

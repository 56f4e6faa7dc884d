"""GRPO rollouts for CPU budgets, through TRL's `rollout_func`: shared-prompt prefill and dynamic sampling.

`Rollout` is handed to `trl.GRPOTrainer(rollout_func=...)`, TRL's extension point for custom generation (no
trainer subclass). It does what TRL's default transformers path does not:

1. **Shared-prompt prefill.** TRL generates the G completions of a prompt as G independent rows, so the prompt is
   prefilled G times. Here each distinct prompt is prefilled once through the backbone, its KV cache is repeated G
   times, and `model.generate` continues from that cache (`tooln1.generation.prefilled_generate`). Greedy outputs
   are identical token for token to plain `generate` (tests/test_generation.py); sampled ones follow the same
   distribution, drawn by inverse CDF (`tooln1.generation.CdfSampler`) rather than `torch.multinomial`, whose
   per-vocabulary-entry random numbers were ~40 % of a CPU rollout. Measured before/after in
   benchmarks/bench_rollout.py.
2. **Dynamic sampling (DAPO, Yu et al. 2025 §3.2),** optional: a group whose G rewards are all equal has zero
   advantage and adds no gradient. With `refill_rounds: N`, each all-equal group is replaced by a fresh training
   prompt (G new completions) for up to N rounds; the gold of a replaced group travels as the `ground_truth` extra
   field, which TRL merges into the reward's inputs. DAPO over-samples until the batch is full; a bounded number of
   rounds keeps a CPU step's time bounded instead. Not in Tool-N1 (it trains with plain GRPO on verl).
3. **Stop strings,** optional (`stop_strings`): a completion ends at the first of them, whatever its length in
   tokens, and gets an EOS that carries no loss (`end_at_stop`), so TRL takes it as ended, not as cut off.

The completions are masked after their first EOS exactly as TRL masks them. Logged per generation batch (TRL's
metric log, so metrics.jsonl and TensorBoard): `rollout/zero_std_groups` (share of all-equal groups as generated),
`rollout/reward_as_drawn` (the mean reward before any refill: the policy's own reward curve, since refilling
biases TRL's `reward` towards mixed groups), `rollout/refilled_groups` (share replaced) and
`rollout/extra_completions` (completions generated beyond the batch).

Example (recipe keys; without `rollout:` TRL's own generation runs):

    rollout: {refill_rounds: 1}     # any `rollout:` mapping turns the shared prefill on; refill_rounds 0: no refill
    rollout: {refill_rounds: 1, stop_strings: ["</tool_call>"]}   # and every reply ends at its first call block

    >>> zero_std_groups([1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0], group=4)
    [1]
"""

from __future__ import annotations

import copy
import logging
import random
from collections.abc import Sequence
from typing import Any

from tooln1.generation import mask_after_eos, prefilled_generate
from tooln1.rewards import score

logger = logging.getLogger(__name__)

# The one TRL internal used: the metric log that reward functions get as `log_metric` (checked on first use).
TRL_TESTED = "1.16.0"


def end_at_stop(rows: Sequence[Sequence[int]], tokenizer: Any, stops: Sequence[str], eos_ids: Sequence[int]
                ) -> tuple[list[list[int]], list[list[int]]]:  # fmt: skip
    """Rows that generation ended at a stop string, cut after it and closed with an EOS the loss does not see.

    transformers pads a row that a stop string finished, and TRL takes a completion without a final EOS (or pad)
    for one cut at the length cap: `mask_truncated_completions` would drop it and `completions/clipped_ratio` count
    it. The appended EOS (the tokenizer's, else the first of `eos_ids`) marks it as ended; its loss-mask entry is 0
    (TRL's `env_mask`), since it was not sampled. Returns (rows, loss masks); rows that end in one of `eos_ids`
    already, or hold no stop string, are kept whole.
    """
    close = tokenizer.eos_token_id if tokenizer.eos_token_id in eos_ids else eos_ids[0]

    def has_stop(ids: Sequence[int]) -> bool:
        text = tokenizer.decode(ids, skip_special_tokens=True)
        return any(s in text for s in stops)

    out, masks = [], []
    for row in map(list, rows):
        if (row and row[-1] in eos_ids) or not has_stop(row):
            out.append(row)
            masks.append([1] * len(row))
            continue
        lo, hi = 1, len(row)  # binary search for the shortest prefix that holds a stop string
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if has_stop(row[:mid]) else (mid + 1, hi)
        out.append(row[:lo] + [close])
        masks.append([1] * lo + [0])
    return out, masks


def zero_std_groups(rewards: Sequence[float], group: int) -> list[int]:
    """Indices of the groups (consecutive runs of `group` rewards) whose rewards are all equal."""
    return [g for g in range(len(rewards) // group) if len(set(rewards[g * group : (g + 1) * group])) == 1]


class Rollout:
    """A `rollout_func` for `trl.GRPOTrainer`: shared-prompt prefill and optional dynamic sampling (module doc)."""

    def __init__(self, prompts: Sequence[str], golds: Sequence[str], variant: str, refill_rounds: int = 0,
                 seed: int = 0, stop_strings: Sequence[str] = ()) -> None:  # fmt: skip
        if len(prompts) != len(golds):
            raise ValueError("one gold per prompt")
        self.gold = dict(zip(prompts, golds, strict=True))
        self.stop_strings = list(stop_strings)
        self.pool = list(self.gold)
        self.variant, self.refill_rounds = variant, refill_rounds
        self.rng = random.Random(seed)
        self._checked = False

    def _check(self, trainer: Any) -> None:
        import trl

        if trl.__version__ != TRL_TESTED or not hasattr(trainer, "_log_metric"):
            raise RuntimeError(f"tooln1's rollout was measured on trl=={TRL_TESTED} (found {trl.__version__}); "
                               "remove `rollout:` from the recipe to use TRL's own generation")  # fmt: skip
        self._checked = True

    def _generate(self, trainer: Any, prompts: list[str]) -> tuple[list[list[int]], list[list[int]], list[list[int]]]:
        """(prompt_ids, completion_ids, loss mask) for `prompts`, which hold each prompt G times in a row."""
        from trl.models import unwrap_model_for_generation

        group = trainer.num_generations
        distinct = prompts[::group]
        tok = trainer.processing_class
        ids = tok(text=distinct)["input_ids"]  # what TRL does with string prompts
        config, kwargs = trainer.generation_config, {}
        if self.stop_strings:  # on the config: transformers deprecates generate kwargs beside a generation_config
            config, kwargs = copy.copy(config), {"tokenizer": tok}
            config.stop_strings = self.stop_strings
        with unwrap_model_for_generation(trainer.model_wrapped, trainer.accelerator) as model:
            rows = prefilled_generate(model, ids, group, config, tok.pad_token_id, **kwargs)
        rows = mask_after_eos(rows, set(trainer.eos_token_ids))
        if self.stop_strings:
            rows, masks = end_at_stop(rows, tok, self.stop_strings, list(trainer.eos_token_ids))
        else:
            masks = [[1] * len(r) for r in rows]
        return [p for p in ids for _ in range(group)], rows, masks

    def _rewards(self, trainer: Any, completion_ids: list[list[int]], golds: list[str]) -> list[float]:
        texts = trainer.processing_class.batch_decode(completion_ids, skip_special_tokens=True)
        return [score(t, g, self.variant).score for t, g in zip(texts, golds, strict=True)]

    def __call__(self, prompts: list[str], trainer: Any) -> dict[str, Any]:
        if not self._checked:
            self._check(trainer)
        group = trainer.num_generations
        prompts = list(prompts)
        golds = [self.gold[p] for p in prompts]
        prompt_ids, completion_ids, masks = self._generate(trainer, prompts)
        n_groups = len(prompts) // group
        flat, refilled, extra = [], 0, 0
        if self.refill_rounds:
            rewards = self._rewards(trainer, completion_ids, golds)
            flat = zero_std_groups(rewards, group)
            trainer._log_metric("rollout/zero_std_groups", len(flat) / n_groups)
            # The policy's own mean reward on the prompts as drawn: refilling biases the logged `reward` towards
            # groups with a mix of 0 and 1, so this is the curve that shows whether the policy improves.
            trainer._log_metric("rollout/reward_as_drawn", sum(rewards) / len(rewards))
        for _ in range(self.refill_rounds):
            if not flat:
                break
            in_batch = set(prompts)
            fresh = [p for p in self.rng.sample(self.pool, min(len(self.pool), len(flat) + n_groups))
                     if p not in in_batch][: len(flat)]  # fmt: skip
            if not fresh:  # a pool no larger than the batch: nothing left to draw
                break
            new_prompts = [p for p in fresh for _ in range(group)]
            new_golds = [self.gold[p] for p in new_prompts]
            new_pids, new_cids, new_masks = self._generate(trainer, new_prompts)
            extra += len(new_prompts)
            still_flat = set(zero_std_groups(self._rewards(trainer, new_cids, new_golds), group))
            useful = [k for k in range(len(fresh)) if k not in still_flat]
            for slot, k in zip(list(flat), useful, strict=False):  # an informative new group takes a flat slot
                dst, src = slice(slot * group, (slot + 1) * group), slice(k * group, (k + 1) * group)
                prompts[dst], golds[dst] = new_prompts[src], new_golds[src]
                prompt_ids[dst], completion_ids[dst], masks[dst] = new_pids[src], new_cids[src], new_masks[src]
                flat.remove(slot)
                refilled += 1
        if self.refill_rounds:
            trainer._log_metric("rollout/refilled_groups", refilled / n_groups)
            trainer._log_metric("rollout/extra_completions", float(extra))
        out = {"prompt_ids": prompt_ids, "completion_ids": completion_ids, "logprobs": None, "ground_truth": golds}
        if self.stop_strings:
            out["env_mask"] = masks
        return out

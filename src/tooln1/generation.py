"""Batched sampling from a prefilled KV cache: one prefill per distinct prompt, shared by its G continuations.

Both the evaluation backend (`tooln1.eval.backends.HFBackend`, G = 1) and the GRPO rollout
(`tooln1.train.rollout`, G = `num_generations`) generate through `prefilled_generate`:

1. the prompts are left-padded together and all but their last token run through the model's *backbone* once,
   filling a KV cache (position ids follow the attention mask, as `generate` computes them);
2. the cache is repeated G times (`DynamicCache.batch_repeat_interleave`), and `model.generate` continues from it.

Why not plain `generate`: TRL's default path prefills each prompt once per completion (G times), and on this CPU
transformers' prefill through a PEFT-wrapped model projected the last position through the 262k-row LM head as a
batched matmul over a non-contiguous slice, which copies the LM head weight once per row (5.4 GB for 16 rows;
17 of 29 s of one prefill in a torch profile). The backbone-only prefill skips the LM head altogether. Greedy
outputs are token for token those of plain `generate` (tests/test_generation.py).

Example:
    >>> mask_after_eos([[5, 7, 1, 0, 0], [5, 6, 6]], eos_ids={1})
    [[5, 7, 1], [5, 6, 6]]
    >>> rows = prefilled_generate(model, [[2, 10, 11], [2, 12]], 4, GenerationConfig(max_new_tokens=8),
    ...                           pad_id=0)                                         # doctest: +SKIP
    >>> len(rows)                                                                   # doctest: +SKIP
    8
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def mask_after_eos(rows: Sequence[Sequence[int]], eos_ids: set[int]) -> list[list[int]]:
    """Each row up to and including its first EOS, as TRL keeps completions (the rest is padding)."""
    out = []
    for row in rows:
        row = list(row)
        cut = next((k + 1 for k, tok in enumerate(row) if tok in eos_ids), len(row))
        out.append(row[:cut])
    return out


def _backbone(model: Any) -> Any:
    """The decoder stack under the LM head (through a PEFT wrapper): what fills the cache without logits."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return getattr(base, base.base_model_prefix)


def prefilled_generate(model: Any, prompt_ids: Sequence[Sequence[int]], group: int, generation_config: Any,
                       pad_id: int, **generate_kwargs: Any) -> list[list[int]]:  # fmt: skip
    """`group` continuations of each prompt (token ids, EOS and padding included), `group` rows per prompt in a row.

    `generate_kwargs` go to `model.generate` (e.g. `stop_strings` with `tokenizer`).
    """
    import torch
    from transformers import DynamicCache

    width = max(len(p) for p in prompt_ids)
    if width < 2:
        raise ValueError("prefilled_generate needs prompts of at least 2 tokens")
    ids = torch.full((len(prompt_ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, p in enumerate(prompt_ids):
        ids[i, width - len(p) :] = torch.tensor(list(p))
        mask[i, width - len(p) :] = 1
    device = next(model.parameters()).device
    ids, mask = ids.to(device), mask.to(device)
    with torch.inference_mode():
        cache = DynamicCache(config=model.config)
        head = mask[:, :-1]
        _backbone(model)(input_ids=ids[:, :-1], attention_mask=head, position_ids=(head.cumsum(-1) - 1).clamp(min=0),
                         cache=cache, use_cache=True)  # fmt: skip
        if group > 1:
            cache.batch_repeat_interleave(group)
            ids, mask = ids.repeat_interleave(group, 0), mask.repeat_interleave(group, 0)
        out = model.generate(input_ids=ids, attention_mask=mask, cache=cache,
                             generation_config=generation_config, **generate_kwargs)  # fmt: skip
    return out[:, width:].tolist()

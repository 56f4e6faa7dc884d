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

A sampling `generation_config` (the GRPO rollout's) draws through `CdfSampler` instead of `torch.multinomial`;
callers that pass sampling kwargs without a config, as the eval backends do, keep transformers' sampling. On this
CPU, multinomial draws one exponential random number per vocabulary entry (`aten::exponential_`, 262k per row for
Gemma-3): 82-108 ms of a 16-row decode step, 36-41 % of a whole rollout in a torch profile (16 rows x 64 tokens,
bf16). Inverse CDF needs one uniform number per row. The distribution is the same (transformers' own temperature /
top-k / top-p warpers, then one draw from the softmax); only the random stream differs.

Example:
    >>> mask_after_eos([[5, 7, 1, 0, 0], [5, 6, 6]], eos_ids={1})
    [[5, 7, 1], [5, 6, 6]]
    >>> rows = prefilled_generate(model, [[2, 10, 11], [2, 12]], 4, GenerationConfig(max_new_tokens=8),
    ...                           pad_id=0)                                         # doctest: +SKIP
    >>> len(rows)                                                                   # doctest: +SKIP
    8
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
from transformers import LogitsProcessor, LogitsProcessorList, TemperatureLogitsWarper, TopKLogitsWarper, \
    TopPLogitsWarper

# Sampling settings CdfSampler reproduces; any other warper (min_p, typical_p, ...) keeps transformers' sampling.
SAMPLER_KEYS = ("temperature", "top_k", "top_p")
OTHER_WARPERS = ("min_p", "typical_p", "epsilon_cutoff", "eta_cutoff", "top_h")


class CdfSampler(LogitsProcessor):
    """Draws the next token itself (inverse CDF of the warped softmax) and returns a one-hot score, so greedy
    decoding takes exactly the sampled token. Runs after every other logits processor, as sampling would."""

    def __init__(self, temperature: float | None, top_k: int | None, top_p: float | None) -> None:
        warpers: list[LogitsProcessor] = []
        if temperature is not None and temperature != 1.0:
            warpers.append(TemperatureLogitsWarper(temperature))
        if top_k:
            warpers.append(TopKLogitsWarper(top_k))
        if top_p is not None and top_p < 1.0:
            warpers.append(TopPLogitsWarper(top_p))
        self.warpers = LogitsProcessorList(warpers)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        probs = torch.softmax(self.warpers(input_ids, scores).float(), dim=-1)
        cdf = probs.cumsum(-1)
        # side="right": token i owns [cdf[i-1], cdf[i]), so a zero-probability token (an empty interval) is never drawn
        u = torch.rand(len(cdf), 1, device=cdf.device) * cdf[:, -1:]
        token = torch.searchsorted(cdf, u, right=True).clamp(max=cdf.shape[-1] - 1)
        return torch.full_like(scores, float("-inf")).scatter_(1, token, 0.0)


def as_cdf_sampling(generation_config: Any, defaults: Any = None) -> tuple[Any, list[LogitsProcessor]]:
    """(config, processors) that sample as `generation_config` does, through `CdfSampler`.

    Unset values are taken from `defaults` (the model's own generation config), as `generate` does. A config that is
    None, does not sample, uses beams or a warper CdfSampler does not reproduce comes back unchanged, with no
    processor (transformers' own sampling then runs).
    """
    cfg = generation_config
    if cfg is None:
        return cfg, []

    def value(key: str) -> Any:
        own = getattr(cfg, key, None)
        return own if own is not None or defaults is None else getattr(defaults, key, None)

    if not value("do_sample") or (value("num_beams") or 1) > 1 or any(value(k) is not None for k in OTHER_WARPERS):
        return cfg, []
    sampler = CdfSampler(value("temperature"), value("top_k"), value("top_p"))
    greedy = copy.deepcopy(cfg)
    greedy.do_sample = False
    for key in SAMPLER_KEYS:
        setattr(greedy, key, None)
    return greedy, [sampler]


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
        config, sampler = as_cdf_sampling(generation_config, getattr(model, "generation_config", None))
        out = model.generate(input_ids=ids, attention_mask=mask, cache=cache, generation_config=config,
                             logits_processor=LogitsProcessorList(sampler), **generate_kwargs)  # fmt: skip
    return out[:, width:].tolist()

"""Tests for `tooln1.generation`: a prefilled, shared-prompt generation gives what plain `generate` gives.

Example:
    .venv/bin/pytest tests/test_generation.py -q
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

from tooln1.generation import CdfSampler, as_cdf_sampling, mask_after_eos, prefilled_generate
from tooln1.prompt import render_prompt
from tooln1.types import Sample


def test_mask_after_eos_keeps_the_first_eos_and_drops_the_padding() -> None:
    assert mask_after_eos([[3, 1, 0, 0], [3, 4, 5], [1], [9, 2, 1, 2]], {1, 2}) == [[3, 1], [3, 4, 5], [1], [9, 2]]


@pytest.mark.parametrize("group", [1, 3])
def test_greedy_rows_equal_generating_each_prompt_alone(tiny_model_dir: Path, group: int) -> None:
    """Prompts of different lengths (left padding), each prefilled once and continued `group` times."""
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    queries = ["Weather in Paris?", "Send an email to eli@example.org titled Lunch, and mark it urgent please.", "Hi"]
    prompts = [tok(render_prompt(Sample(f"s{i}", "t", [], [{"role": "user", "content": q}], []), tok)).input_ids
               for i, q in enumerate(queries)]  # fmt: skip
    assert len({len(p) for p in prompts}) == 3
    config = GenerationConfig(max_new_tokens=6, do_sample=False, pad_token_id=tok.pad_token_id)
    rows = prefilled_generate(model, prompts, group, config, tok.pad_token_id)
    assert len(rows) == group * len(prompts)
    for i, p in enumerate(prompts):
        with torch.no_grad():
            alone = model.generate(torch.tensor([p]), attention_mask=torch.ones(1, len(p), dtype=torch.long),
                                   generation_config=config)[0, len(p):].tolist()  # fmt: skip
        assert all(rows[group * i + k] == alone for k in range(group))


def test_one_token_prompts_are_refused(tiny_model_dir: Path) -> None:
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    with pytest.raises(ValueError, match="at least 2 tokens"):
        prefilled_generate(model, [[2]], 1, GenerationConfig(max_new_tokens=2), 0)


def test_cdf_sampler_draws_from_the_warped_softmax() -> None:
    """20,000 draws from one row of logits: frequencies within 1.5 points of softmax(logits / T) after top-k."""
    torch.manual_seed(0)
    logits = torch.tensor([[2.0, 1.0, 0.5, 0.0, -1.0, -30.0]])
    sampler = CdfSampler(temperature=0.8, top_k=4, top_p=1.0)
    counts = torch.zeros(6)
    for _ in range(20_000):
        out = sampler(torch.zeros(1, 1, dtype=torch.long), logits.clone())
        assert torch.isinf(out).sum() == 5 and out.max() == 0  # one-hot: greedy decoding takes the drawn token
        counts[out.argmax()] += 1
    expected = torch.softmax(torch.tensor([2.0, 1.0, 0.5, 0.0]) / 0.8, -1)
    assert counts[4:].sum() == 0  # outside the top 4: never drawn
    assert torch.allclose(counts[:4] / counts.sum(), expected, atol=0.015)


def test_cdf_sampling_at_top_k_1_is_greedy_and_unsupported_warpers_keep_transformers_sampling(
        tiny_model_dir: Path) -> None:  # fmt: skip
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    ids = tok("Weather in Paris tomorrow?").input_ids
    greedy = GenerationConfig(max_new_tokens=8, do_sample=False, pad_token_id=tok.pad_token_id)
    top1 = GenerationConfig(max_new_tokens=8, do_sample=True, temperature=1.3, top_k=1, pad_token_id=tok.pad_token_id)
    assert prefilled_generate(model, [ids], 3, top1, tok.pad_token_id) == \
        prefilled_generate(model, [ids], 3, greedy, tok.pad_token_id)  # fmt: skip
    config, processors = as_cdf_sampling(top1)
    assert not config.do_sample and config.top_k is None and len(processors) == 1 and top1.do_sample
    min_p = GenerationConfig(do_sample=True, min_p=0.1)
    assert as_cdf_sampling(min_p) == (min_p, [])
    assert as_cdf_sampling(greedy) == (greedy, []) and as_cdf_sampling(None) == (None, [])
    # Unset values come from the model's own generation config, as `generate` takes them.
    assert as_cdf_sampling(GenerationConfig(max_new_tokens=4), GenerationConfig(do_sample=True, top_k=5))[1]

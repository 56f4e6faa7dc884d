"""Tests for `tooln1.generation`: a prefilled, shared-prompt generation gives what plain `generate` gives.

Example:
    .venv/bin/pytest tests/test_generation.py -q
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

from tooln1.generation import mask_after_eos, prefilled_generate
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

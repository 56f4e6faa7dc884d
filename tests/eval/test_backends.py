"""Local backends: the hf backend's batching (left padding, length sorting) gives the same text as one prompt at a
time; token counting; the vllm backend's clear error where vLLM is missing.

Example of what is checked: three prompts of 30, 45 and 60 tokens, generated greedily one by one and as one
left-padded batch, give the same completions.

Run: .venv/bin/pytest tests/eval/test_backends.py
"""

from __future__ import annotations

import sys

import pytest

from tooln1.errors import UserError
from tooln1.eval.backends import GenSettings, HFBackend, VLLMBackend, count_new_tokens
from tooln1.types import Sample

TOOL = {"name": "lookup", "description": "Look a word up", "parameters": {"word": {"type": "str"}}}
SAMPLES = [Sample(f"b{i}", "t", [TOOL], [{"role": "user", "content": "Define " + "very " * (5 * i) + "long."}], [])
           for i in range(3)]  # fmt: skip


def test_left_padded_length_sorted_batches_match_one_prompt_at_a_time(tiny_model_dir):
    single = HFBackend(str(tiny_model_dir), GenSettings(max_new_tokens=6, batch_size=1), dtype="float32")
    one_by_one = list(single.generate(SAMPLES))
    batched = HFBackend(str(tiny_model_dir), GenSettings(max_new_tokens=6, batch_size=3), dtype="float32")
    together = list(batched.generate(SAMPLES))
    assert [i for i, _ in one_by_one] == [2, 1, 0]  # longest prompt first
    assert dict(together) == dict(one_by_one) and len(together) == 3
    assert batched.generated_tokens == single.generated_tokens > 0
    ids = single.encode(SAMPLES[0])
    assert ids[0] == single.tokenizer.bos_token_id and ids[1] != single.tokenizer.bos_token_id


def test_a_plain_template_model_stops_at_the_turn_end_unless_told_otherwise(tiny_model_dir):
    from transformers import AutoTokenizer

    from tooln1.prompt import PLAIN_CHAT_TEMPLATE

    plain = HFBackend(str(tiny_model_dir), GenSettings(max_new_tokens=4), dtype="float32")
    assert plain.tokenizer.chat_template == PLAIN_CHAT_TEMPLATE and plain.settings.stop == ("\n\n",)
    assert plain.stop_kwargs()["stop_strings"] == ["\n\n"]
    told = HFBackend(str(tiny_model_dir), GenSettings(max_new_tokens=4, stop=("</tool_call>",)), dtype="float32")
    assert told.settings.stop == ("</tool_call>",)
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    tok.chat_template = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}<|assistant|>"
    own = HFBackend.from_loaded(plain.model, tok, GenSettings(max_new_tokens=4))
    assert own.settings.stop == () and own.stop_kwargs() == {}


def test_count_new_tokens_stops_at_the_first_eos():
    assert count_new_tokens([5, 6, 1, 0, 0], {1, 106}) == 3
    assert count_new_tokens([5, 106, 1], {1, 106}) == 2
    assert count_new_tokens([5, 6, 7], {1}) == 3


def test_sampling_settings():
    assert GenSettings().sampling_kwargs() == {"do_sample": False}
    assert GenSettings(temperature=0.7, top_p=0.9).sampling_kwargs() == {
        "do_sample": True, "temperature": 0.7, "top_p": 0.9, "top_k": 0}  # fmt: skip


def test_vllm_backend_without_vllm_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # as if vLLM were not installed
    with pytest.raises(UserError, match=r"needs vLLM, which is not installed: pip install 'tooln1\[vllm\]'"):
        VLLMBackend("bundled", GenSettings())


def test_unknown_dtype_is_a_user_error():
    with pytest.raises(UserError, match="unknown dtype 'int8'"):
        HFBackend("bundled", GenSettings(), dtype="int8")


def test_the_default_dtype_follows_the_cpu_rule(tiny_model_dir):
    """`fast`, the default: bfloat16 weights on a CPU with native bf16, float32 elsewhere (tooln1.model)."""
    import torch

    from tooln1.model import resolve_dtype

    backend = HFBackend(str(tiny_model_dir), GenSettings(max_new_tokens=2))
    assert next(backend.model.parameters()).dtype == getattr(torch, resolve_dtype("fast", "cpu"))
    assert len(list(backend.generate(SAMPLES[:1]))) == 1

"""Tests for `tooln1.model`: the bundled conversion's check, model resolution errors and the tiny test model.

Example:
    .venv/bin/pytest tests/test_model.py -q
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tooln1.errors import UserError
from tooln1.model import BUNDLED, load_model_and_tokenizer, prepare_bundled, resolve_model
from tooln1.prompt import PLAIN_CHAT_TEMPLATE


def test_bundled_conversion_passes_its_check() -> None:
    out = prepare_bundled()
    check = json.loads((out / "tooln1_check.json").read_text())
    assert check["greedy_deterministic"] is True
    assert 1.0 < check["perplexity"] <= check["ppl_bound"]
    assert (out / "model.safetensors").is_file()
    assert resolve_model(BUNDLED) == str(out) == resolve_model(None)


def test_bundled_tokenizer_has_plain_chat_template() -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(prepare_bundled())
    assert tok.chat_template == PLAIN_CHAT_TEMPLATE
    text = tok.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True)
    assert text == "User: hi\n\nAssistant:"


def test_resolve_model_errors(tmp_path) -> None:
    assert resolve_model("Qwen/Qwen2.5-7B-Instruct") == "Qwen/Qwen2.5-7B-Instruct"
    with pytest.raises(UserError, match="model not found"):
        resolve_model(str(tmp_path / "nope"))
    with pytest.raises(UserError, match="no config.json"):
        resolve_model(str(tmp_path))


def test_tiny_model_generates(tiny_model_dir) -> None:
    import torch

    model, tok = load_model_and_tokenizer(str(tiny_model_dir))
    assert sum(p.numel() for p in model.parameters()) < 20_000_000
    ids = tok("hello", return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=4, do_sample=False)
    assert out.shape[1] == ids["input_ids"].shape[1] + 4


def test_cli_model_prepare_is_registered() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "tooln1", "model", "prepare", "--help"], capture_output=True, text=True, check=True
    )
    assert "--force" in r.stdout

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
from tooln1.model import (
    BUNDLED,
    load_model_and_tokenizer,
    native_bf16_cpu,
    prepare_bundled,
    resolve_dtype,
    resolve_model,
)
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


# /proc/cpuinfo lines of real machines: the Ice Lake-class VM that bench_dtype.py measured (no native bf16), a
# Sapphire Rapids VM (cpu_measurements.md), and an Arm Neoverse V1 (Features line).
ICELAKE_FLAGS = "flags\t\t: fpu vme avx avx2 avx512f avx512dq avx512bw avx512vl avx512_vnni avx512_vpopcntdq\n"
SAPPHIRE_FLAGS = "flags\t\t: fpu avx512f avx512_bf16 avx512_fp16 amx_bf16 amx_tile amx_int8\n"
NEOVERSE_V1 = "processor\t: 0\nFeatures\t: fp asimd evtstrm aes sha3 sve i8mm bf16\n"


@pytest.mark.parametrize(
    ("cpuinfo", "native"),
    [(ICELAKE_FLAGS, False), (SAPPHIRE_FLAGS, True), (NEOVERSE_V1, True), ("", False),
     ("model name\t: Xeon avx512_bf16 in a name only\n", False)],
)  # fmt: skip
def test_native_bf16_reads_the_flags_line_only(cpuinfo: str, native: bool) -> None:
    assert native_bf16_cpu(cpuinfo) is native


@pytest.mark.parametrize("native", [True, False])
def test_fast_dtype_follows_the_cpu(monkeypatch, native: bool) -> None:
    import tooln1.model as model

    monkeypatch.setattr(model, "native_bf16_cpu", lambda: native)
    assert resolve_dtype("fast", "cpu") == ("bfloat16" if native else "float32")
    assert resolve_dtype("bfloat16", "cpu") == "bfloat16"  # an explicit dtype is never second-guessed
    assert resolve_dtype("auto", "cpu") == "auto"


def test_fast_dtype_loads_a_real_model(tiny_model_dir) -> None:
    """A recipe with `dtype: fast` loads real weights in the dtype the CPU rule picks."""
    import torch

    from tooln1.train.config import load_config
    from tooln1.train.run import load_policy

    cfg = load_config("configs/tiny_ci.yaml", ["--data", "unused", "--model", str(tiny_model_dir), "--dtype", "fast"],
                      mode="grpo")  # fmt: skip
    model, _, _ = load_policy(cfg)
    assert next(model.parameters()).dtype == getattr(torch, resolve_dtype("fast", "cpu"))

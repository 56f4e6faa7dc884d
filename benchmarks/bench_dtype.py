"""bfloat16 against float32 weights on this CPU: prefill, decode and an SFT step, measured in one run.

Example:
    $ .venv/bin/python benchmarks/bench_dtype.py              # bundled model, 2 rounds, ~16 minutes on 2 cores
    $ .venv/bin/python benchmarks/bench_dtype.py --rounds 1 --sft-steps 0     # generation only, ~2 minutes

Why: `dtype: fast` (configs/cpu_demo.yaml, `tooln1 eval --dtype`) picks bfloat16 only where the CPU has native
bf16 instructions (AVX512-BF16 or AMX; `tooln1.model.native_bf16_cpu`), because oneDNN emulates bf16 elsewhere.
This bench measures both dtypes on the machine at hand, so the rule can be checked rather than trusted:

1. prefill: 4 prompts of 370 tokens through the backbone (what a rollout does once per prompt);
2. decode: one sampled-token step at batch 16 and at batch 64 over a 370-token cache (LM head included);
3. SFT step: `tooln1 train sft --config configs/cpu_demo.yaml --dtype D` in a fresh process for `--sft-steps`
   steps, the median of its logged `step_seconds` past the first (LoRA on the top 6 layers, 8 samples a step).

Sides alternate round by round and each figure is the fastest round (other work only ever adds time). It prints
one line per measure with the fp32/bf16 time ratio (above 1: bf16 is faster) and what `fast` resolves to here.

Measured (2026-12-07, 2-core Xeon VM with AVX-512 VNNI but no AVX512-BF16 or AMX, one round, 8.3 minutes):

    native bf16 on this CPU: False; dtype fast -> float32
    prefill 4x370            float32   2.345 s   bfloat16   6.535 s   fp32/bf16  0.36x
    decode step, batch 16    float32   0.340 s   bfloat16   0.570 s   fp32/bf16  0.60x
    decode step, batch 64    float32   0.468 s   bfloat16   1.479 s   fp32/bf16  0.32x
    SFT step (8 samples)     float32  25.065 s   bfloat16  47.695 s   fp32/bf16  0.53x
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "configs" / "cpu_demo.yaml"
DTYPES = ("float32", "bfloat16")


def generation_times(model_dir: str, dtype: str) -> dict[str, float]:
    """Seconds for a 4 x 370 prefill and for one decode step at batch 16 and 64 (median of 5 steps)."""
    import torch
    from transformers import DynamicCache

    from tooln1.model import load_model_and_tokenizer

    model, _ = load_model_and_tokenizer(model_dir, dtype=getattr(torch, dtype))
    ids = torch.randint(1000, 20000, (64, 370), generator=torch.Generator().manual_seed(0))
    out: dict[str, float] = {}
    with torch.inference_mode():
        started = time.perf_counter()
        model.model(input_ids=ids[:4], use_cache=True)
        out["prefill 4x370"] = time.perf_counter() - started
        for batch in (16, 64):
            cache = DynamicCache(config=model.config)
            model.model(input_ids=ids[:batch, :-1], use_cache=True, past_key_values=cache)
            steps = []
            for _ in range(5):
                started = time.perf_counter()
                model(input_ids=ids[:batch, -1:], past_key_values=cache, use_cache=True, logits_to_keep=1)
                steps.append(time.perf_counter() - started)
            out[f"decode step, batch {batch}"] = statistics.median(steps)
    return out


def sft_step(model_dir: str, data: Path, dtype: str, steps: int, out: Path) -> float:
    """Median SFT step seconds past the first, of a fresh `tooln1 train sft` process."""
    cmd = [sys.executable, "-m", "tooln1", "train", "sft", "--config", str(RECIPE), "--model", model_dir, "--data",
           str(data), "--output_dir", str(out), "--dtype", dtype, "--max_steps", str(steps), "--report_to", "[]"]
    subprocess.run(cmd, check=True, capture_output=True, cwd=REPO)
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    return statistics.median(m["step_seconds"] for m in lines[1:] or lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="bundled")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--sft-steps", type=int, default=3, help="SFT steps per run (0: skip the SFT measure)")
    args = p.parse_args(argv)

    from tooln1.model import native_bf16_cpu, resolve_dtype, resolve_model

    model_dir = resolve_model(args.model)
    best: dict[tuple[str, str], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        subprocess.run([sys.executable, "-m", "tooln1", "data", "synth", "--n", "200", "--seed", "0", "--out",
                        str(data)], check=True, capture_output=True, cwd=REPO)  # fmt: skip
        for r in range(args.rounds):
            for dtype in DTYPES if r % 2 == 0 else DTYPES[::-1]:
                times = generation_times(model_dir, dtype)
                if args.sft_steps:
                    times["SFT step (8 samples)"] = sft_step(model_dir, data, dtype, args.sft_steps,
                                                             Path(tmp) / f"sft-{dtype}-{r}")  # fmt: skip
                for name, seconds in times.items():
                    best[(name, dtype)] = min(seconds, best.get((name, dtype), float("inf")))
    print(f"native bf16 on this CPU: {native_bf16_cpu()}; dtype fast -> {resolve_dtype('fast', 'cpu')}")
    for name in dict.fromkeys(n for n, _ in best):
        fp32, bf16 = best[(name, "float32")], best[(name, "bfloat16")]
        print(f"{name:24s} float32 {fp32:7.3f} s   bfloat16 {bf16:7.3f} s   fp32/bf16 {fp32 / bf16:5.2f}x")


if __name__ == "__main__":
    main()

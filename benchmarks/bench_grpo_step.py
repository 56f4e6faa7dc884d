"""Cost of our layer: the same GRPO recipe through `tooln1 train grpo` and through a minimal plain-TRL script.

Example:
    $ .venv/bin/python benchmarks/bench_grpo_step.py                 # tiny model, 5 rounds, ~2 min
    $ .venv/bin/python benchmarks/bench_grpo_step.py --model bundled --rounds 2 --steps 2   # ~3 min

Both sides run in fresh processes, alternating (ours, plain, ours, plain, ...), on the same samples
(`tooln1.data.synth.generate`), the same recipe (configs/tiny_ci.yaml's `grpo:` mapping, with checkpoints off) and the
same reward (`tooln1.rewards.TrlReward`). The measure is the trainer's own `train_runtime` per optimizer step, which
includes our callbacks (metrics JSONL, plot, TensorBoard) but not model loading or the final save. Target: the
step-time ratio plain / ours >= 0.95, i.e. our layer costs under 5 %. The ratio is taken between the fastest run
of each side: on a shared machine other work only ever adds time, so the minimum is the least noisy estimate of
a side's own cost (the medians are printed too).

On CPU, `tooln1 train` also makes TRL score only completion positions through the LM head
(`tooln1.train.run.score_labelled_positions_only`); the plain script applies the same fix by default so that the
ratio measures the layer's overhead alone. `--plain-stock` leaves TRL as shipped and shows that fix's speed-up.
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

import yaml

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "configs" / "tiny_ci.yaml"
TARGET = 0.95


def plain_worker(recipe: str, model: str, data: str, out: str, steps: int, stock: bool) -> None:
    """The minimal plain-TRL run: samples -> string prompts + ground_truth, GRPOTrainer, TrlReward. Prints JSON."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from tooln1.prompt import render_prompt
    from tooln1.rewards import TrlReward
    from tooln1.types import Sample, calls_to_json

    if not stock:
        from tooln1.train.run import score_labelled_positions_only

        score_labelled_positions_only()
    raw = yaml.safe_load(Path(recipe).read_text())
    grpo = {**raw["grpo"], "max_steps": steps, "save_strategy": "no", "report_to": ["tensorboard"]}
    samples = [Sample.from_json(line) for line in Path(data).read_text().splitlines()]
    tok = AutoTokenizer.from_pretrained(model)
    rows = {"prompt": [render_prompt(s, tok) for s in samples],
            "ground_truth": [calls_to_json(s.gold) for s in samples]}
    trainer = GRPOTrainer(
        model=AutoModelForCausalLM.from_pretrained(model),
        reward_funcs=TrlReward(raw.get("reward", "binary")),
        args=GRPOConfig(output_dir=out, **grpo),
        train_dataset=Dataset.from_dict(rows),
        processing_class=tok,
    )
    result = trainer.train()
    sys.stdout.write(json.dumps({"train_runtime": result.metrics["train_runtime"]}) + "\n")


def run_ours(model: str, data: Path, out: Path, steps: int, recipe: Path = RECIPE) -> float:
    cmd = [sys.executable, "-m", "tooln1", "train", "grpo", "--config", str(recipe), "--model", model, "--data",
           str(data), "--output_dir", str(out), "--max_steps", str(steps), "--save_strategy", "no"]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True)
    return json.loads((out / "train_summary.json").read_text())["train_runtime"] / steps


def run_plain(model: str, data: Path, out: Path, steps: int, stock: bool, recipe: Path = RECIPE) -> float:
    cmd = [sys.executable, __file__, "--plain-worker", "--model", model, "--data", str(data), "--out", str(out),
           "--steps", str(steps), "--recipe", str(recipe)] + (["--plain-stock"] if stock else [])  # fmt: skip
    proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])["train_runtime"] / steps


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="tiny", help="'tiny' (built into a temp folder), 'bundled', or a model folder")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=4, help="optimizer steps per run")
    p.add_argument("--samples", type=int, default=32)
    p.add_argument("--plain-stock", action="store_true", help="plain TRL without the CPU LM-head fix")
    p.add_argument("--recipe", type=Path, default=RECIPE, help="recipe (default configs/tiny_ci.yaml; a GPU run "
                   "passes one with use_cpu: false, see benchmarks/gpu_smoke.sh)")  # fmt: skip
    p.add_argument("--plain-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.plain_worker:
        plain_worker(str(args.recipe), args.model, args.data, args.out, args.steps, args.plain_stock)
        return 0

    from tooln1.data.synth import generate
    from tooln1.model import build_tiny_model, resolve_model

    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        model = str(build_tiny_model(tmp / "tiny")) if args.model == "tiny" else resolve_model(args.model)
        data = tmp / "train.jsonl"
        data.write_text("".join(s.to_json() + "\n" for s in generate(args.samples, seed=0)))
        ours, plain = [], []
        for r in range(args.rounds):
            t0 = time.perf_counter()
            ours.append(run_ours(model, data, tmp / f"ours{r}", args.steps, args.recipe))
            plain.append(run_plain(model, data, tmp / f"plain{r}", args.steps, args.plain_stock, args.recipe))
            print(f"round {r + 1}: ours {ours[-1]:.2f} s/step, plain {plain[-1]:.2f} s/step "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)  # fmt: skip
    ratio = min(plain) / min(ours)
    plain_name = f"plain TRL{' (stock)' if args.plain_stock else ''}"
    print(f"fastest s/step: ours {min(ours):.2f}, {plain_name} {min(plain):.2f}; median: ours "
          f"{statistics.median(ours):.2f}, {plain_name} {statistics.median(plain):.2f} "
          f"(median ratio {statistics.median(plain) / statistics.median(ours):.3f})")  # fmt: skip
    print(f"step-time ratio plain/ours = {ratio:.3f} (target >= {TARGET}): {'PASS' if ratio >= TARGET else 'FAIL'}")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())

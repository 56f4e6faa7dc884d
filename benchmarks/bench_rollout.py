"""GRPO step time of TRL's own step against tooln1's, on the same model and recipe, measured in one run.

Example:
    $ .venv/bin/python benchmarks/bench_rollout.py                        # 10-step SFT warm-up, 2 rounds x 4 steps
    $ .venv/bin/python benchmarks/bench_rollout.py --rounds 1 --warmup-steps 0     # from the bundled base model
    $ .venv/bin/python benchmarks/bench_rollout.py --recipe-overrides --per_device_train_batch_size 16

Three sides, each `tooln1 train grpo --config configs/cpu_demo.yaml` in a fresh process, alternating, from the
same model on the same synthetic prompts, with no refill anywhere (all generate the same number of completions):

1. TRL: its own transformers generation and its own loss pass (`--rollout null --skip_flat_rows false`);
2. + rollout: `tooln1.train.rollout` (each prompt prefilled once for its G completions, inverse-CDF sampling);
3. + skip: the rollout, and zero-advantage rows left out of the loss pass (`tooln1.train.grpo`; same gradient).

The start model is a short SFT warm-up (`--warmup-steps`, run here first) so that groups mix right and wrong
answers and steps carry a gradient, as in the demo's RL stage; the bundled base model (`--warmup-steps 0`) scores 0
everywhere, so every row is flat and side 3 would skip every loss pass. The measure is the median of each run's
logged `step_seconds` past its first step (the first holds one-off allocations), and ratios are taken between
each side's fastest run: other work on a shared machine only ever adds time. Completions are sampled, so the
share of flat groups differs between runs; it is printed beside each time.

With `--previous-recipe`, all sides use the recipe the demo had before the rollout (our default, longer prompt
wording and 2 prompts x 4 completions per step).
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
PREVIOUS = ["--prompt_file", "null", "--per_device_train_batch_size", "8"]  # the demo recipe before this change


def run(model: str, data: Path, out: Path, steps: int, extra: list[str]) -> tuple[float, float]:
    """(median step seconds past the first step, mean share of flat groups) of one GRPO run."""
    cmd = [sys.executable, "-m", "tooln1", "train", "grpo", "--config", str(RECIPE), "--model", model, "--data",
           str(data), "--output_dir", str(out), "--max_steps", str(steps), "--save_strategy", "no",
           "--report_to", "[]", *extra]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, cwd=REPO)
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    flat = statistics.mean(m["frac_reward_zero_std"] for m in lines)
    return statistics.median(m["step_seconds"] for m in lines[1:] or lines), flat


def warm_up(model: str, data: Path, out: Path, steps: int) -> str:
    """`steps` SFT steps of the demo's warm-up recipe from `model` (0: `model` itself)."""
    if not steps:
        return model
    cmd = [sys.executable, "-m", "tooln1", "train", "sft", "--config", str(RECIPE), "--model", model, "--data",
           str(data), "--output_dir", str(out), "--max_steps", str(steps), "--report_to", "[]"]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, cwd=REPO)
    return str(out)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="bundled")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--steps", type=int, default=4, help="optimizer steps per run")
    p.add_argument("--warmup-steps", type=int, default=10, help="SFT steps before GRPO (0: the model as it is)")
    p.add_argument("--previous-recipe", action="store_true", help="all sides on the demo's previous recipe")
    p.add_argument("--recipe-overrides", nargs=argparse.REMAINDER, default=[], help="more `--key value` overrides")
    args = p.parse_args()

    from tooln1.data.build import BuildOptions, build_from_samples
    from tooln1.data.export import write_outputs
    from tooln1.data.synth import generate
    from tooln1.model import resolve_model

    common = (PREVIOUS if args.previous_recipe else []) + args.recipe_overrides
    sides = {"TRL (its generation and loss pass)": common + ["--rollout", "null", "--skip_flat_rows", "false"],
             "+ tooln1 rollout": common + ["--rollout.refill_rounds", "0", "--skip_flat_rows", "false"],
             "+ flat rows skipped": common + ["--rollout.refill_rounds", "0", "--skip_flat_rows", "true"]}  # fmt: skip
    times: dict[str, list[float]] = {name: [] for name in sides}
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        splits, report = build_from_samples("synth", generate(200, 0), BuildOptions(seed=0))
        write_outputs(tmp / "data", splits, report)
        t0 = time.perf_counter()
        model = warm_up(resolve_model(args.model), tmp / "data", tmp / "warmup", args.warmup_steps)
        print(f"start model: {args.model} + {args.warmup_steps} SFT steps ({time.perf_counter() - t0:.0f} s)")
        for r in range(args.rounds):
            for k, (name, extra) in enumerate(sides.items()):
                t0 = time.perf_counter()
                seconds, flat = run(model, tmp / "data", tmp / f"run{r}-{k}", args.steps, extra)
                times[name].append(seconds)
                print(f"round {r + 1}: {name}: {seconds:.1f} s/step, flat groups {flat:.0%} "
                      f"({time.perf_counter() - t0:.0f} s)", flush=True)  # fmt: skip
    print(f"recipe: configs/cpu_demo.yaml {' '.join(common) or '(as shipped)'}, no refill on any side")
    base = min(next(iter(times.values())))
    for name, t in times.items():
        print(f"{name}: fastest {min(t):.1f} s/step, median {statistics.median(t):.1f}; "
              f"speed-up over TRL {base / min(t):.2f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""GRPO step time before and after `tooln1.train.rollout`, on the same model and recipe, measured in one run.

Example:
    $ .venv/bin/python benchmarks/bench_rollout.py                           # bundled model, 2 rounds x 3 steps
    $ .venv/bin/python benchmarks/bench_rollout.py --recipe-overrides --per_device_train_batch_size 16

"Before" is TRL's own transformers generation (the recipe with `--rollout null`); "after" is the same recipe with
`rollout: {refill_rounds: 0}` (each prompt prefilled once through the backbone and shared by its G completions;
no refill on either side, so both generate the same number of completions per step).
Both run `tooln1 train grpo --config configs/cpu_demo.yaml` in fresh processes, alternating (before, after,
before, ...), from the same model on the same synthetic prompts. The measure is the median of each run's logged
`step_seconds` past its first step (the first holds one-off allocations), and the ratio is taken between each
side's fastest run: other work on a shared machine only ever adds time. The bundled base model never stops on its
own, so every completion runs to `max_completion_length`: the same work on both sides.

With `--previous-recipe`, both sides use the recipe the demo had before this change (our default, longer prompt
wording and 2 prompts x 4 completions per step), which is the "same recipe" comparison against the old demo.
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


def run(model: str, data: Path, out: Path, steps: int, extra: list[str]) -> float:
    cmd = [sys.executable, "-m", "tooln1", "train", "grpo", "--config", str(RECIPE), "--model", model, "--data",
           str(data), "--output_dir", str(out), "--max_steps", str(steps), "--save_strategy", "no",
           "--report_to", "[]", *extra]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, cwd=REPO)
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    return statistics.median(m["step_seconds"] for m in lines[1:] or lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="bundled")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--steps", type=int, default=3, help="optimizer steps per run")
    p.add_argument("--previous-recipe", action="store_true", help="both sides on the demo's previous recipe")
    p.add_argument("--recipe-overrides", nargs=argparse.REMAINDER, default=[], help="more `--key value` overrides")
    args = p.parse_args()

    from tooln1.data.build import BuildOptions, build_from_samples
    from tooln1.data.export import write_outputs
    from tooln1.data.synth import generate
    from tooln1.model import resolve_model

    common = (PREVIOUS if args.previous_recipe else []) + args.recipe_overrides
    sides = {"before (TRL generation)": common + ["--rollout", "null"],
             "after (tooln1 rollout)": common + ["--rollout.refill_rounds", "0"]}
    times: dict[str, list[float]] = {name: [] for name in sides}
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        model = resolve_model(args.model)
        splits, report = build_from_samples("synth", generate(200, 0), BuildOptions(seed=0))
        write_outputs(tmp / "data", splits, report)
        for r in range(args.rounds):
            for k, (name, extra) in enumerate(sides.items()):
                t0 = time.perf_counter()
                times[name].append(run(model, tmp / "data", tmp / f"run{r}-{k}", args.steps, extra))
                print(f"round {r + 1}: {name} {times[name][-1]:.1f} s/step ({time.perf_counter() - t0:.0f} s)",
                      flush=True)  # fmt: skip
    (before, b), (after, a) = times.items()
    print(f"recipe: configs/cpu_demo.yaml {' '.join(common) or '(as shipped)'}")
    print(f"fastest s/step: {before} {min(b):.1f}, {after} {min(a):.1f}; medians {statistics.median(b):.1f} / "
          f"{statistics.median(a):.1f}")  # fmt: skip
    print(f"speed-up before/after = {min(b) / min(a):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

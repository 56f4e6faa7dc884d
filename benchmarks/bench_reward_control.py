"""Does GRPO's training reward measure the policy? The recipe against a frozen-policy control on the same prompts.

Example:
    $ .venv/bin/python benchmarks/bench_reward_control.py                  # ~12 minutes on 2 cores
    $ .venv/bin/python benchmarks/bench_reward_control.py --start runs/demo-X/sft --data runs/demo-X/data --steps 12

Two GRPO runs from the same model on the same training tasks with configs/cpu_demo.yaml, differing only in the
learning rate: (a) the recipe's (or `--learning-rate`), (b) 0, so the policy never changes. TRL's prompt sampler is
seeded, so both runs draw the same prompts at every step; `rollout/reward_as_drawn` is the reward of those drawn
groups before any refill, so the frozen run's curve is what prompt difficulty alone does to the reward, and the
per-step difference (trained - frozen) is what training did. Step 1 samples the same model with the same seed in
both runs, so its two rewards must match: a built-in check that the runs are paired.

Prints a markdown table (first five and last five steps' mean reward of each run, as the demo's report computes
them) and writes OUT/reward_control.md, OUT/reward_control.json and OUT/reward_control.png (reward per step, one
line per run).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench_rl_vs_sft import RECIPE, REPO, add_start_args, line_plot, warm_up


def rewards_per_step(learning_rate: float | None, start: str, data: str, out: Path, steps: int) -> list[float]:
    """The reward as drawn at each optimizer step of one GRPO run (`learning_rate` None: the recipe's)."""
    from tooln1.train.callbacks import read_metrics
    from tooln1.train.config import load_config
    from tooln1.train.run import train

    argv = ["--model", start, "--data", data, "--output_dir", str(out), "--max_steps", str(steps),
            "--save_strategy", "no", "--report_to", "[]"]  # fmt: skip
    if learning_rate is not None:
        argv += ["--learning_rate", str(learning_rate)]
    cfg = load_config(RECIPE, argv, mode="grpo")
    cfg.prompt_file = str(REPO / cfg.prompt_file) if cfg.prompt_file else None
    train(cfg, overwrite=True)
    return [m.get("rollout/reward_as_drawn", m["reward"]) for m in read_metrics(out) if "reward" in m]


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_start_args(p)
    p.add_argument("--steps", type=int, default=12, help="GRPO steps per run")
    p.add_argument("--learning-rate", type=float, help="the trained run's (default: the recipe's)")
    p.add_argument("--out", default="runs/bench_reward_control")
    args = p.parse_args()

    began = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start, data = (args.start, args.data) if args.start and args.data else warm_up(out, args.warmup_steps)
    lr = "recipe lr" if args.learning_rate is None else f"lr {args.learning_rate:g}"
    curves = {f"trained ({lr})": rewards_per_step(args.learning_rate, start, data, out / "trained", args.steps),
              "frozen (lr 0)": rewards_per_step(0.0, start, data, out / "frozen", args.steps)}  # fmt: skip
    trained, frozen = curves.values()
    n = min(len(trained), len(frozen))
    summary: dict[str, Any] = {name: {"first5": round(mean(v[:5]), 4), "last5": round(mean(v[-5:]), 4)}
                               for name, v in curves.items()}  # fmt: skip
    summary["paired"] = trained[0] == frozen[0]
    diffs = [t - f for t, f in zip(trained, frozen, strict=False)]
    lines = [f"Start: `{start}`; {n} GRPO steps each, same prompts; step 1 paired: {summary['paired']}.\n",
             "| run | first five steps | last five steps | last - first |", "|---|---:|---:|---:|"]
    for name, s in list(summary.items())[:2]:
        lines.append(f"| {name} | {s['first5']:.3f} | {s['last5']:.3f} | {s['last5'] - s['first5']:+.3f} |")
    after = f" (mean {mean(diffs[1:]):+.3f} over steps 2-{n}, after the first update)" if n > 1 else ""
    lines.append(f"\nTrained - frozen per step: {' '.join(f'{d:+.3f}' for d in diffs)}{after}")
    table = "\n".join(lines)
    (out / "reward_control.md").write_text(table + "\n")
    (out / "reward_control.json").write_text(json.dumps({"start": start, "curves": curves, **summary}, indent=2))
    lines = {name: (list(range(1, len(v) + 1)), v) for name, v in curves.items()}
    line_plot(lines, out / "reward_control.png", "optimizer step (same prompts in both runs)",
              "training reward as drawn", "GRPO's training reward against a frozen policy")
    print(table)
    print(f"total {(time.perf_counter() - began) / 60:.1f} minutes; {out / 'reward_control.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

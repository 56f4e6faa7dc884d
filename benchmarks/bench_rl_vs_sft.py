"""The paper's Table 3 in miniature: from one checkpoint and one wall-clock budget, continued SFT against GRPO.

Example:
    $ .venv/bin/python benchmarks/bench_rl_vs_sft.py                      # 30-60 minutes on 2 cores
    $ .venv/bin/python benchmarks/bench_rl_vs_sft.py --start runs/demo-X/sft --data runs/demo-X/data --minutes 4

Both arms start from the same model (by default: the demo's synthetic tasks and its 10-step SFT warm-up, built
here) and train on the same training tasks with configs/cpu_demo.yaml: (a) more SFT steps on the gold answers,
(b) GRPO with the binary reward (on the tasks whose gold has a call: the recipe's `calls_only: true`, which SFT
does not read). Each arm stops once its *training* clock reaches `--minutes`; the held-out probes
that draw its learning curve (`tooln1.train.probe`, first `--probe-n` held-out tasks, greedy) are taken out of
that clock (`probe.stop_after_minutes`), so both arms get the same compute. Both final models are then scored on every held-out task and on
the demo's BFCL subset (BFCL's own checker), with the demo's evaluation settings.

Prints a markdown table and writes OUT/rl_vs_sft.md, OUT/rl_vs_sft.json and OUT/rl_vs_sft.png (held-out accuracy
against training minutes, one line per arm).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "configs" / "cpu_demo.yaml"


def train_arm(mode: str, start: str, data: str, out: Path, minutes: float, probe_n: int, probe_every: int) -> Path:
    from tooln1.train.config import load_config
    from tooln1.train.run import train

    argv = ["--model", start, "--data", data, "--output_dir", str(out), "--max_steps", "10000", "--save_strategy",
            "no", "--report_to", "[]", "--probe.every", str(probe_every), "--probe.n", str(probe_n),
            "--probe.stop_after_minutes", str(minutes)]  # fmt: skip
    cfg = load_config(RECIPE, argv, mode=mode)
    cfg.prompt_file = str(REPO / cfg.prompt_file) if cfg.prompt_file else None
    return train(cfg, overwrite=True)


def evaluate(model: str, data: str, bfcl_per_category: int) -> dict[str, Any]:
    """Held-out accuracy (all tasks) and the BFCL subset, with the demo's settings and prompt wording."""
    from tooln1.demo.pipeline import BFCL_SUBSET
    from tooln1.eval import bfcl, heldout
    from tooln1.eval.backends import GenSettings, HFBackend
    from tooln1.train.config import load_config
    from tooln1.train.data import load_prompt_template

    recipe = load_config(RECIPE, ["--data", data], mode="grpo")
    template = load_prompt_template(str(REPO / recipe.prompt_file) if recipe.prompt_file else None)
    backend = HFBackend(model, GenSettings(max_new_tokens=96, batch_size=16, stop=("\n\n",)), template=template)
    items = heldout.load_items(data)
    texts = dict(backend.generate([it.sample for it in items]))
    held = heldout.summarize_rewards([texts[i] for i in range(len(items))], [it.sample.gold for it in items])
    cases = bfcl.load_cases(BFCL_SUBSET, bfcl_per_category)
    answers = dict(backend.generate([c.item.sample for c in cases]))
    correct = sum(bfcl.score(c, answers[i]).correct for i, c in enumerate(cases))
    return {"heldout": held["accuracy"], "heldout_n": held["n"], "format_rate": held["format_rate"],
            "bfcl": round(100 * correct / len(cases), 2), "bfcl_n": len(cases)}  # fmt: skip


def warm_up(out: Path, steps: int) -> tuple[str, str]:
    """The demo's synthetic tasks and its SFT warm-up, when no --start is given."""
    from tooln1.data.build import BuildOptions, build_from_samples
    from tooln1.data.export import write_outputs
    from tooln1.data.synth import generate
    from tooln1.train.config import load_config
    from tooln1.train.run import train

    data = out / "data"
    if not (data / "test.jsonl").is_file():
        splits, report = build_from_samples("synth", generate(1500, 0), BuildOptions(seed=0))
        write_outputs(data, splits, report)
    start = out / "warmup"
    if not (start / "model.safetensors").is_file():
        argv = ["--data", str(data), "--output_dir", str(start), "--max_steps", str(steps), "--report_to", "[]"]
        cfg = load_config(RECIPE, argv, mode="sft")
        cfg.prompt_file = str(REPO / cfg.prompt_file) if cfg.prompt_file else None
        train(cfg, overwrite=True)
    return str(start), str(data)


def line_plot(lines: dict[str, tuple[list[float], list[float]]], path: Path, xlabel: str, ylabel: str,
              title: str) -> None:  # fmt: skip
    """One marked line per entry (name -> (xs, ys)); shared by the benchmarks that draw curves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, (xs, ys) in lines.items():
        ax.plot(xs, ys, marker="o", label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def add_start_args(p: argparse.ArgumentParser) -> None:
    """--start, --data, --warmup-steps: the starting model and tasks, or the demo's warm-up built here."""
    p.add_argument("--start", help="starting model folder (default: build the demo's warm-up here)")
    p.add_argument("--data", help="a `tooln1 data` folder (default: the demo's synthetic tasks, built here)")
    p.add_argument("--warmup-steps", type=int, default=10)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_start_args(p)
    p.add_argument("--minutes", type=float, default=6.0, help="training minutes per arm")
    p.add_argument("--probe-n", type=int, default=32)
    p.add_argument("--bfcl-per-category", type=int, default=16)
    p.add_argument("--out", default="runs/bench_rl_vs_sft")
    args = p.parse_args()

    from tooln1.train.probe import accuracy_per_minute, read_probes

    began = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start, data = (args.start, args.data) if args.start and args.data else warm_up(out, args.warmup_steps)
    # Probes about every 2 minutes of each arm: an SFT step is ~3x cheaper than a GRPO step of 16 completions.
    arms = {"continued SFT": ("sft", 9), "GRPO": ("grpo", 3)}
    rows, curves = [], {}
    for name, (mode, every) in arms.items():
        run = train_arm(mode, start, data, out / mode, args.minutes, args.probe_n, every)
        probes = read_probes(run)
        curves[name] = probes
        final = evaluate(str(run), data, args.bfcl_per_category)
        rows.append({"arm": name, "steps": probes[-1]["step"], "train_minutes": probes[-1]["train_minutes"],
                     "probe_start": probes[0]["accuracy"], "probe_end": probes[-1]["accuracy"],
                     "probe_points_per_minute": accuracy_per_minute(probes), **final})  # fmt: skip
        print(f"{name}: {rows[-1]}", flush=True)
    start_eval = evaluate(start, data, args.bfcl_per_category)
    lines = [f"Start: `{start}` (held-out {start_eval['heldout']:.1f} % of {start_eval['heldout_n']}, BFCL subset "
             f"{start_eval['bfcl']:.1f} % of {start_eval['bfcl_n']}); {args.minutes:g} training minutes per arm.\n",
             "| arm | optimizer steps | training minutes | held-out accuracy | held-out format rate | BFCL subset | "
             "probe points per minute |", "|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in rows:
        ppm = "—" if r["probe_points_per_minute"] is None else f"{r['probe_points_per_minute']:+.2f}"
        lines.append(f"| {r['arm']} | {r['steps']} | {r['train_minutes']:.1f} | {r['heldout']:.1f} % | "
                     f"{r['format_rate']:.1f} % | {r['bfcl']:.1f} % | {ppm} |")  # fmt: skip
    table = "\n".join(lines)
    (out / "rl_vs_sft.md").write_text(table + "\n")
    (out / "rl_vs_sft.json").write_text(json.dumps({"start": start_eval, "arms": rows, "curves": curves}, indent=2))
    lines = {name: ([q["train_minutes"] for q in probes], [q["accuracy"] for q in probes])
             for name, probes in curves.items()}  # fmt: skip
    probe_n = next(iter(curves.values()))[0]["n"]
    line_plot(lines, out / "rl_vs_sft.png", "training minutes (probes excluded)",
              f"held-out accuracy, first {probe_n} tasks (%)", "Same start, same budget: continued SFT vs GRPO")
    print(table)
    print(f"total {(time.perf_counter() - began) / 60:.1f} minutes; {out / 'rl_vs_sft.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

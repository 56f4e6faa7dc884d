"""`tooln1 demo --multi-turn`: the Tool-N1 loop on executable multi-step tasks, with before/after numbers.

Stages (each one a `tooln1` command run in-process; a rerun with the same `--out` skips what is finished):

1. `data synth --multi-turn`: train tasks, held-out tasks, and the gold steps for the warm-up;
2. before: `eval multi-turn` on the held-out tasks and `eval bfcl --categories multi_turn_base --limit K`;
3. `train sft` on the gold steps (the base model writes no `<tool_call>` zero-shot, see configs/cpu_demo.yaml);
4. `train grpo` on the train tasks through TRL's environment_factory (multi-step rollouts, outcome reward);
5. after: the same two evaluations with the trained model; `report.md` puts the numbers side by side.

The default CPU demo (`make demo`) is unchanged; this one is separate and slower per task (prompts hold a tool
result per step, BFCL multi-turn prompts are 4k-7k tokens).

Example:
    $ tooln1 demo --multi-turn --out runs/demo-mt --sft-steps 30 --grpo-steps 10 --bfcl-limit 3
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("--multi-turn")
    g.add_argument("--multi-turn", action="store_true", help="the multi-step demo (tooln1.demo.multiturn)")
    g.add_argument("--mt-tasks", type=int, default=200, help="multi-turn train tasks (default: 200; 10%% held out)")
    g.add_argument("--sft-steps", type=int, default=30, help="multi-turn: SFT warm-up steps (default: 30)")
    g.add_argument("--grpo-steps", type=int, default=10, help="multi-turn: GRPO steps (default: 10)")
    g.add_argument("--bfcl-limit", type=int, default=3, help="multi-turn: first N multi_turn_base entries (default 3)")
    g.add_argument("--max-new-tokens", type=int, default=160, help="multi-turn evals: tokens per reply (default 160)")


def _cli(argv: list[str]) -> None:
    from tooln1.cli import main

    logger.info("tooln1 %s", " ".join(argv))
    if main(argv) != 0:
        raise SystemExit(f"stage failed: tooln1 {' '.join(argv)}")


def _prompt_file(recipe: str) -> list[str]:
    """`--prompt-file` of the recipe's `prompt_file`, so the evaluations render the prompts training saw."""
    from tooln1.demo.pipeline import config_path
    from tooln1.train.config import load_config

    prompt_file = load_config(config_path(recipe), [], mode="grpo").prompt_file
    return ["--prompt-file", str(config_path(prompt_file))] if prompt_file else []


def _evals(out: Path, model: str, tag: str, args: argparse.Namespace) -> dict[str, Any]:
    """Held-out multi-turn tasks and the BFCL subset with one model; returns both summaries."""
    gen = ["--model", model, "--max-new-tokens", str(args.max_new_tokens), "--max-steps", "4",
           *_prompt_file(args.config)]  # fmt: skip
    _cli(["eval", "multi-turn", "--data", str(out / "data"), "--out", str(out / f"eval-{tag}-heldout"), *gen])
    _cli(["eval", "bfcl", "--categories", "multi_turn_base", "--limit", str(args.bfcl_limit), "--out",
          str(out / f"eval-{tag}-bfcl"), *gen])  # fmt: skip
    return {name: json.loads((out / f"eval-{tag}-{name}" / "summary.json").read_text())
            for name in ("heldout", "bfcl")}  # fmt: skip


def report(before: dict[str, Any], after: dict[str, Any], args: argparse.Namespace) -> str:
    def row(name: str, s: dict[str, Any]) -> str:
        c = s.get("multi_turn_counts", {})
        return f"| {name} | {s['accuracy']:.2f} | {s['n']} | {c.get('steps', 0)} | {c.get('executed_calls', 0)} | " \
               f"{c.get('tool_errors', 0)} |"  # fmt: skip

    lines = ["# Multi-turn demo: before and after", "",
             f"SFT warm-up {args.sft_steps} steps, GRPO {args.grpo_steps} steps (configs/cpu_demo.yaml otherwise).",
             "", "| evaluation | accuracy % | n | replies | executed calls | tool errors |",
             "|---|---:|---:|---:|---:|---:|"]
    for key, label in (("heldout", "held-out multi-step tasks"), ("bfcl", "BFCL multi_turn_base subset")):
        lines += [row(f"{label}, before", before[key]), row(f"{label}, after", after[key])]
    return "\n".join(lines) + "\n"  # fmt: skip


def run(args: argparse.Namespace) -> int:
    out = Path(args.out or "runs/demo-multi-turn")
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "data" / "train.jsonl").is_file():
        _cli(["data", "synth", "--multi-turn", "--n", str(args.mt_tasks), "--out", str(out / "data")])
    before = _evals(out, args.model, "before", args)
    sft, grpo = out / "sft", out / "grpo"
    if not (sft / "model.safetensors").is_file():
        _cli(["train", "sft", "--config", args.config, "--model", args.model, "--data",
              str(out / "data" / "train_steps.jsonl"), "--output_dir", str(sft), "--overwrite", "--max_steps",
              str(args.sft_steps)])  # fmt: skip
    if not (grpo / "model.safetensors").is_file():
        _cli(["train", "grpo", "--config", args.config, "--model", str(sft), "--data", str(out / "data"),
              "--output_dir", str(grpo), "--overwrite", "--max_steps", str(args.grpo_steps),
              "--max_completion_length", "200", "--max_tool_calling_iterations", "3", "--save_strategy", "no"])
    after = _evals(out, str(grpo), "after", args)
    text = report(before, after, args)
    (out / "report.md").write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return 0

"""`tooln1 demo`: the whole Tool-N1 loop on a CPU with the bundled model, and a measured before/after table.

Example:
    $ tooln1 demo                      # continues the latest unfinished runs/demo-* run, else starts one
    $ tooln1 demo --new --n-tasks 800  # a fresh run with fewer synthetic tasks
    $ tooln1 demo --smoke --out /tmp/d # tiny model, 1 step: the plumbing in about a minute
    $ tooln1 demo --multi-turn         # executable multi-step tasks + a BFCL multi-turn subset (demo/multiturn.py)

See `tooln1.demo.pipeline` for the stages, and RUN/report.md for the result.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the whole Tool-N1 loop on a CPU and report before/after")
    p.add_argument("--out", help="run folder (default: continue the latest unfinished runs/demo-*, else a new one)")
    p.add_argument("--new", action="store_true", help="start a new run even if an unfinished one exists")
    p.add_argument("--model", default="bundled", help="starting model (default: the bundled Gemma-3-270M)")
    p.add_argument("--data", help="a `tooln1 data build` folder instead of synthetic tasks")
    p.add_argument("--config", default="configs/cpu_demo.yaml", help="training recipe (sft: and grpo: sections)")
    p.add_argument("--n-tasks", type=int, default=1500, help="synthetic tasks to generate (10%% held out)")
    p.add_argument("--heldout", type=int, help="evaluate only the first N held-out tasks (default: all of them)")
    p.add_argument("--no-sft", action="store_true", help="skip the SFT warm-up: pure RL from the base model")
    p.add_argument("--smoke", action="store_true", help="tiny random model, a few tasks, 1 step (CI)")
    from tooln1.demo.multiturn import add_arguments

    add_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.multi_turn:
        from tooln1.demo import multiturn

        return multiturn.run(args)
    from tooln1.demo.display import Display
    from tooln1.demo.pipeline import STAGES, Demo, DemoConfig, find_unfinished

    common = {"model": args.model, "data": args.data, "sft": not args.no_sft}
    if args.smoke:
        cfg = DemoConfig.smoke_test(**common)
    else:
        cfg = DemoConfig(config=args.config, n_tasks=args.n_tasks, heldout=args.heldout, **common)
    root = Path("runs")
    run_dir = Path(args.out) if args.out else None if args.new else find_unfinished(root)
    if run_dir is None:
        run_dir = root / f"demo-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    resumed = (run_dir / "state.json").is_file()
    run_dir.mkdir(parents=True, exist_ok=True)
    with Display(len(STAGES)) as display:
        display.note(f"{'resuming' if resumed else 'starting'} demo in {run_dir}")
        Demo(run_dir, cfg, display).execute()
    sys.stdout.write(f"report: {run_dir / 'report.md'}\n")
    return 0

"""`tooln1 data build | synth | check | fetch`: the command line of the data pipeline.

Example:
    $ tooln1 data build --source xlam=Salesforce/xlam-function-calling-60k --source toolace=Team-ACE/ToolACE \\
          --out data/tooln1 --max-prompt-tokens 4096 --tokenizer Qwen/Qwen2.5-7B-Instruct --seed 0
    $ tooln1 data synth --n 2000 --seed 0 --out data/synth
    $ tooln1 data check data/synth
    $ tooln1 data fetch --out ../shared/data      # the public third-party files the tests read, sha256-checked

`build` and `synth` print the report as a table and write the folder described in `tooln1.data.export`. Bad
input (a missing file, an unknown source, an unreachable hub, a malformed record under `--strict`) is a one-line
error with exit status 2. `check` exits 1 when some gold fails.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tooln1.data import SOURCES
from tooln1.data.build import BuildOptions, SourceSpec, build, build_from_samples
from tooln1.data.check import check_dir
from tooln1.data.export import write_outputs
from tooln1.data.fetch import run_fetch
from tooln1.data.report import BuildReport
from tooln1.data.synth import generate
from tooln1.errors import UserError
from tooln1.prompt import DEFAULT_TEMPLATE, PromptTemplate
from tooln1.types import Sample

MAX_FAILURES_SHOWN = 20


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _output_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out", required=True, type=Path, help="output folder (replaced atomically if it is an earlier output)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the split and the augmentations (default 0)")
    p.add_argument("--test-fraction", type=_fraction, default=0.1, help="share of dialogues in test (default 0.1)")
    p.add_argument("--prompt-file", help="YAML with the prompt wording (`preamble`, `instructions`) for the exports")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="build, synthesize and check Tool-N1 datasets")
    dsub = p.add_subparsers(dest="data_command", required=True, metavar="ACTION")

    b = dsub.add_parser("build", help="convert, filter, split and export public tool-calling datasets")
    b.add_argument(
        "--source",
        action="append",
        required=True,
        metavar="NAME[=PATH_OR_HUB_ID]",
        help=f"a source (repeatable); NAME is one of {', '.join(SOURCES)}; alone it means its hub dataset",
    )
    _output_args(b)
    b.add_argument("--max-prompt-tokens", type=_positive, help="drop samples whose prompt has more tokens")
    b.add_argument("--tokenizer", help="model id or folder whose tokenizer counts prompt tokens (default: bundled)")
    b.add_argument("--strict", action="store_true", help="stop at the first malformed record (exit status 2)")
    b.add_argument("--keep-duplicates", action="store_true",
                   help="keep exact repeats (as the paper does); by default they are dropped as sample:duplicate")
    b.add_argument(
        "--irrelevance",
        type=_rate,
        default=0.0,
        metavar="RATE",
        help="add no-call copies (called tools removed) of this share of single-turn samples (default 0)",
    )
    b.add_argument(
        "--mask-names",
        type=_rate,
        default=0.0,
        metavar="RATE",
        help="Hammer-mask function and parameter names in this share of single-turn samples (default 0)",
    )
    b.set_defaults(func=run_build)

    s = dsub.add_parser("synth", help="generate synthetic tasks from the built-in catalogue (CPU demo, tests)")
    s.add_argument("--n", type=_positive, required=True, help="number of samples (with --multi-turn: train tasks)")
    s.add_argument("--multi-turn", action="store_true", help="executable multi-step tasks in small stateful "
                   "environments (tooln1.data.synth_multiturn); the test split is --test-fraction x N held-out tasks")
    _output_args(s)
    s.set_defaults(func=run_synth)

    c = dsub.add_parser("check", help="check that every gold scores 1.0 against its canonical completion")
    c.add_argument("dir", type=Path, help="a folder written by `tooln1 data build` or `synth`")
    c.set_defaults(func=run_check)

    f = dsub.add_parser("fetch", help="download the public third-party test data, checking every sha256",
                        description="Download API-Bank, ToolRL, Hammer, glaive and ToolACE files the tests read "
                        "from the repositories and commits of their manifest, checking each sha256.")  # fmt: skip
    f.add_argument("--out", type=Path, required=True,
                   help="target folder; the tests read TOOLN1_DATA_DIR (default ../shared/data)")  # fmt: skip
    f.add_argument("--mirror", type=Path, help="copy from this local folder (same layout) instead of GitHub")
    f.set_defaults(func=lambda args: run_fetch(args.out, args.mirror))


def _template(args: argparse.Namespace) -> PromptTemplate:
    return PromptTemplate.from_file(args.prompt_file) if args.prompt_file else DEFAULT_TEMPLATE


def _finish(out: Path, splits: dict[str, list[Sample]], report: BuildReport, template: PromptTemplate) -> int:
    from rich.console import Console

    console = Console(file=sys.stdout, width=max(100, Console().width))
    if not any(splits.values()):
        console.print(report.table())
        raise UserError("no sample survived conversion and filtering; nothing written (see the table above)")
    write_outputs(out, splits, report, template)
    console.print(report.table())
    console.print(f"wrote {out}")
    return 0


def run_build(args: argparse.Namespace) -> int:
    if args.tokenizer and args.max_prompt_tokens is None:
        raise UserError("--tokenizer only serves --max-prompt-tokens; give both")
    template = _template(args)
    options = BuildOptions(
        seed=args.seed, test_fraction=args.test_fraction, max_prompt_tokens=args.max_prompt_tokens,
        tokenizer=args.tokenizer, strict=args.strict, irrelevance=args.irrelevance, mask_names=args.mask_names,
        template=template, dedupe=not args.keep_duplicates,
    )  # fmt: skip
    splits, report = build([SourceSpec.parse(s) for s in args.source], options)
    return _finish(args.out, splits, report, template)


def run_synth(args: argparse.Namespace) -> int:
    if args.multi_turn:
        return _run_synth_multiturn(args)
    template = _template(args)
    options = BuildOptions(seed=args.seed, test_fraction=args.test_fraction, template=template)
    splits, report = build_from_samples("synth", generate(args.n, args.seed), options)
    return _finish(args.out, splits, report, template)


def _run_synth_multiturn(args: argparse.Namespace) -> int:
    from tooln1.data import synth_multiturn as smt

    args.out.mkdir(parents=True, exist_ok=True)
    n_test = max(1, round(args.n * args.test_fraction))
    splits = {"train": smt.generate(args.n, args.seed, "train"), "test": smt.generate(n_test, args.seed, "test")}
    for name, tasks in splits.items():
        (args.out / f"{name}.jsonl").write_text("".join(json.dumps(t.to_dict()) + "\n" for t in tasks),
                                                encoding="utf-8")  # fmt: skip
    steps = [s for t in splits["train"] for s in smt.step_samples(t)]
    (args.out / "train_steps.jsonl").write_text("".join(s.to_json() + "\n" for s in steps), encoding="utf-8")
    by_env = {e: sum(t.env == e for t in splits["train"]) for e in smt.MAKERS}
    sys.stdout.write(f"wrote {args.out}: {len(splits['train'])} train tasks {by_env}, {n_test} held-out test tasks, "
                     f"{len(steps)} gold steps in train_steps.jsonl\n")
    return 0


def run_check(args: argparse.Namespace) -> int:
    result = check_dir(args.dir)
    files = ", ".join(f"{name}: {n}" for name, n in result.rows.items())
    if result.failures:
        sys.stdout.write(f"FAILED: {len(result.failures)} golds do not score 1.0 ({files})\n")
        for line in result.failures[:MAX_FAILURES_SHOWN]:
            sys.stdout.write(f"  {line}\n")
        return 1
    sys.stdout.write(f"ok: every gold scores 1.0 under the binary reward ({files})\n")
    return 0

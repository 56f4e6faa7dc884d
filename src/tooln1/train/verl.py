"""`tooln1 export verl`: samples -> verl RL parquet, for the paper's own backend (scripts/verl_grpo_tool_n1.sh).

Example:
    $ tooln1 export verl --data runs/data --out runs/verl
    runs/verl/train.parquet (62687 rows)
    runs/verl/test.parquet (6965 rows)

Rows follow method §1.6 (`data_source`, `prompt` chat messages with the tools in the system text, `ability`,
`reward_model.ground_truth` JSON string, `extra_info`), written by the data stage's own writer
(`tooln1.data.export.write_verl_parquet`). verl applies the model's chat template to `prompt` itself and scores
responses with `tooln1.rewards.compute_score` (the binary reward: these rows carry no `reward_variant`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tooln1.errors import UserError

SPLITS = ("train", "test")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export training data for other RL frameworks")
    esub = p.add_subparsers(dest="export_format", required=True, metavar="FORMAT")
    v = esub.add_parser("verl", help="verl RL parquet (train.parquet, test.parquet)")
    v.add_argument("--data", required=True, help="a `tooln1 data` output folder (train.jsonl, test.jsonl) or a .jsonl")
    v.add_argument("--out", required=True, help="output folder")
    v.add_argument("--prompt-file", help="YAML prompt wording (as for training)")
    v.set_defaults(func=run)


def export_verl(data: str | Path, out: str | Path, prompt_file: str | None = None) -> dict[str, Path]:
    """Write OUT/train.parquet (and OUT/test.parquet when DATA has a test.jsonl); returns split -> path."""
    from tooln1.data.export import write_verl_parquet
    from tooln1.train.data import load_prompt_template, read_samples

    src = Path(data)
    if not src.exists():
        raise UserError(f"data not found: {src}")
    if src.is_dir():
        files = {s: src / f"{s}.jsonl" for s in SPLITS if (src / f"{s}.jsonl").is_file()}
    else:
        files = {"train": src}
    if not files:
        raise UserError(f"no train.jsonl or test.jsonl in {src}")
    template = load_prompt_template(prompt_file)
    Path(out).mkdir(parents=True, exist_ok=True)
    written = {}
    for split, f in files.items():
        path = Path(out) / f"{split}.parquet"
        write_verl_parquet(read_samples(f), path, split, template)
        written[split] = path
    return written


def run(args: argparse.Namespace) -> int:
    import pyarrow.parquet as pq

    for path in export_verl(args.data, args.out, args.prompt_file).values():
        sys.stdout.write(f"{path} ({pq.read_metadata(path).num_rows} rows)\n")
    return 0

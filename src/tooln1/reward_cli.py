"""`tooln1 reward`: score completions by hand, one JSONL line in, one JSONL line out, in order.

Example:
    $ echo '{"completion": "<think>x</think><tool_call>[]</tool_call>", "ground_truth": []}' > c.jsonl
    $ tooln1 reward --variant binary --input c.jsonl
    {"reward": 1.0, "reason": "ok"}

A malformed line stops the command with exit status 2 and a message naming the line number.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tooln1.errors import UserError
from tooln1.rewards import VARIANTS, score


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reward", help="score completions against gold calls (JSONL in, JSONL out)")
    p.add_argument("--variant", choices=VARIANTS, default="binary", help="reward variant (default: binary)")
    p.add_argument("--input", required=True, help='JSONL file of {"completion": str, "ground_truth": list|str}; - = stdin')
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.input == "-":
        lines = sys.stdin.buffer
    else:
        path = Path(args.input)
        if not path.is_file():
            raise UserError(f"input file not found: {path}")
        lines = path.open("rb")  # bytes: a line that is not UTF-8 is a malformed line, reported with its number
    out = sys.stdout
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line.decode("utf-8"))
            completion, gold = row["completion"], row["ground_truth"]
            if not isinstance(completion, str):
                raise ValueError("'completion' must be a string")
            r = score(completion, gold, args.variant)
        except (ValueError, KeyError, TypeError, RecursionError) as e:  # RecursionError: absurdly deep JSON
            out.flush()
            raise UserError(f"{args.input}:{lineno}: malformed line: {type(e).__name__}: {e}") from None
        out.write(json.dumps({"reward": r.score, "reason": r.reason}) + "\n")
    return 0

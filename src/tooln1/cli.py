"""The `tooln1` command line: a literal table of subcommands, each in the module that owns its work.

Example:
    $ tooln1 reward --variant binary --input completions.jsonl
    {"reward": 1.0, "reason": "ok"}

Each command module exposes `add_parser(subparsers)`, which registers its arguments and sets `func`. Command
modules import heavy libraries (torch, transformers) inside their functions, so `tooln1 --help` stays fast.
A `UserError` (bad input) becomes a one-line message on stderr and exit status 2, with no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from tooln1.errors import UserError

COMMANDS = {
    "reward": "tooln1.reward_cli",
    "serve": "tooln1.serve",
    "model": "tooln1.model",
    "data": "tooln1.data.cli",
    "train": "tooln1.train.cli",
    "export": "tooln1.train.verl",
    "eval": "tooln1.eval.cli",
    "demo": "tooln1.demo",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tooln1", description="Tool-N1: rule-based RL for tool calling.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS.values():
        importlib.import_module(module).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(name)s: %(message)s"
    )
    try:
        return int(args.func(args) or 0)
    except UserError as e:
        sys.stderr.write(f"tooln1: error: {e}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("tooln1: interrupted\n")
        return 130

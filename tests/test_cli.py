"""The `tooln1` dispatcher: help lists every command, both entry points work, usage errors exit 2, imports stay light.

Example:
    $ .venv/bin/pytest tests/test_cli.py -q
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tooln1.cli import COMMANDS, build_parser, main

CONSOLE_SCRIPT = Path(sys.executable).parent / "tooln1"  # installed by `pip install -e .` into the venv


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tooln1", *args], capture_output=True, text=True, timeout=60)


def test_help_lists_every_command():
    p = run("--help")
    assert p.returncode == 0 and p.stderr == ""
    assert p.stdout.startswith("usage: tooln1")
    for name in COMMANDS:
        assert name in p.stdout


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_has_help(name):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args([name, "--help"])
    assert e.value.code == 0


def test_console_script_matches_module():
    p = subprocess.run([str(CONSOLE_SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout == run("--help").stdout


@pytest.mark.parametrize("args", [[], ["no-such-command"]], ids=["no_command", "unknown_command"])
def test_usage_errors_exit_2(args):
    p = run(*args)
    assert p.returncode == 2 and "usage: tooln1" in p.stderr and "Traceback" not in p.stderr


def test_help_does_not_import_heavy_libraries():
    """Command modules import torch/transformers inside their functions, so `tooln1 --help` stays fast."""
    code = (
        "import sys; from tooln1.cli import build_parser; build_parser(); "
        "print(sorted(m for m in ('torch', 'transformers', 'trl', 'datasets', 'peft') if m in sys.modules))"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout.strip() == "[]", p.stdout + p.stderr


def test_user_error_becomes_one_line_exit_2(capsys):
    assert main(["reward", "--input", "/nonexistent/x.jsonl"]) == 2
    assert capsys.readouterr().err == "tooln1: error: input file not found: /nonexistent/x.jsonl\n"

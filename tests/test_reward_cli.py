"""`tooln1 reward`, run as a real subprocess: JSONL in, JSONL out in order; one-line errors with exit status 2.

Example:
    $ .venv/bin/pytest tests/test_reward_cli.py -q
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

GOLD = [{"name": "get_weather", "arguments": {"city": "Zürich", "days": 5}}]
RIGHT = '<think>easy</think><tool_call>[{"name": "get_weather", "arguments": {"days": 5, "city": "Zürich"}}]</tool_call>'
NO_THINK = '<tool_call>[{"name": "get_weather", "arguments": {"city": "Zürich", "days": 5}}]</tool_call>'
WRONG = '<think>hm</think><tool_call>[{"name": "get_weather", "arguments": {"city": "Zürich", "days": "5"}}]</tool_call>'
ROWS = [
    {"completion": RIGHT, "ground_truth": GOLD},
    {"completion": RIGHT, "ground_truth": json.dumps(GOLD)},  # the dataset column form: a JSON string
    {"completion": NO_THINK, "ground_truth": GOLD},
    {"completion": WRONG, "ground_truth": json.dumps(GOLD)},
    {"completion": "<think>none fits</think><tool_call>[]</tool_call>", "ground_truth": "[]"},
    {"completion": "I cannot help.", "ground_truth": []},
]
EXPECTED = {  # (reward, reason) per row, from the rules of method §3.2-§3.4
    "binary": [(1.0, "ok"), (1.0, "ok"), (0.0, "format:missing_think"), (0.0, "call:arg_mismatch"), (1.0, "ok"),
               (0.0, "format:no_tool_call")],
    "binary_no_think": [(1.0, "ok"), (1.0, "ok"), (1.0, "ok"), (0.0, "call:arg_mismatch"), (1.0, "ok"),
                        (0.0, "format:no_tool_call")],
    "partial_think": [(1.0, "ok"), (1.0, "ok"), (0.8, "format:missing_think"), (0.2, "call:arg_mismatch"),
                      (1.0, "ok"), (0.0, "format:no_tool_call")],
    "partial_name": [(1.0, "ok"), (1.0, "ok"), (0.8, "format:missing_think"), (0.4, "call:arg_mismatch"),
                     (1.0, "ok"), (0.0, "format:no_tool_call")],
}  # fmt: skip


def tooln1(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tooln1", *args], input=stdin, capture_output=True, timeout=60)


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def outputs(stdout: bytes) -> list[tuple[float, str]]:
    return [(d["reward"], d["reason"]) for d in map(json.loads, stdout.decode("utf-8").splitlines())]


@pytest.mark.parametrize("variant", list(EXPECTED))
def test_scores_in_order(tmp_path, variant):
    f = write_jsonl(tmp_path / "in.jsonl", ROWS)
    p = tooln1("reward", "--variant", variant, "--input", str(f))
    assert p.returncode == 0, p.stderr
    got = outputs(p.stdout)
    assert [r for _, r in got] == [r for _, r in EXPECTED[variant]]
    assert [s for s, _ in got] == pytest.approx([s for s, _ in EXPECTED[variant]])


def test_default_variant_is_binary_and_stdin(tmp_path):
    data = "".join(json.dumps(r) + "\n" for r in ROWS).encode("utf-8")
    p = tooln1("reward", "--input", "-", stdin=data)
    assert p.returncode == 0, p.stderr
    assert outputs(p.stdout) == EXPECTED["binary"]


def test_blank_lines_skipped_but_counted(tmp_path):
    f = tmp_path / "in.jsonl"
    f.write_text("\n" + json.dumps(ROWS[0]) + "\n   \n" + "{not json\n", encoding="utf-8")
    p = tooln1("reward", "--input", str(f))
    assert p.returncode == 2
    assert outputs(p.stdout) == [(1.0, "ok")]  # lines before the bad one are written
    assert f"{f}:4: malformed line" in p.stderr.decode()


@pytest.mark.parametrize(
    ("line", "why"),
    [(b"{not json}", "JSONDecodeError"),
     (b'{"completion": "x"}', "KeyError"),
     (b'{"ground_truth": []}', "KeyError"),
     (b'["x", []]', "TypeError"),
     (b'{"completion": 5, "ground_truth": []}', "completion"),
     (b'{"completion": "x", "ground_truth": 5}', "ValueError"),
     (b'{"completion": "x", "ground_truth": "[{\\"name\\": \\"f\\"}]"}', "not a tool call"),
     (b'{"completion": "x", "ground_truth": {"name": "f", "arguments": {}}}', "ValueError"),
     (b'{"completion": "\xff\xfe", "ground_truth": []}', "UnicodeDecodeError"),
     (b"[" * 100_000, "RecursionError")],
    ids=["json", "no_ground_truth", "no_completion", "not_object", "completion_not_str", "gold_number",
         "gold_bad_call", "gold_dict", "not_utf8", "deep"],
)  # fmt: skip
def test_malformed_line_exit_2_one_line(tmp_path, line, why):
    f = tmp_path / "in.jsonl"
    f.write_bytes(json.dumps(ROWS[0]).encode() + b"\n" + json.dumps(ROWS[2]).encode() + b"\n" + line + b"\n")
    p = tooln1("reward", "--input", str(f))
    err = p.stderr.decode("utf-8", errors="replace")
    assert p.returncode == 2
    assert "Traceback" not in err and err.count("\n") == 1, err
    assert err.startswith(f"tooln1: error: {f}:3: malformed line") and why in err
    assert len(outputs(p.stdout)) == 2


def test_missing_file(tmp_path):
    p = tooln1("reward", "--input", str(tmp_path / "nope.jsonl"))
    assert p.returncode == 2
    assert p.stderr.decode() == f"tooln1: error: input file not found: {tmp_path / 'nope.jsonl'}\n"
    assert p.stdout == b""


def test_unknown_variant_is_a_usage_error(tmp_path):
    f = write_jsonl(tmp_path / "in.jsonl", ROWS[:1])
    p = tooln1("reward", "--variant", "lexico", "--input", str(f))
    assert p.returncode == 2 and b"invalid choice" in p.stderr and b"Traceback" not in p.stderr

"""Tests for `tooln1 data build | synth | check` on the command line, bad input first.

Example:
    .venv/bin/pytest tests/data/test_data_cli.py -q
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tooln1.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
XLAM = FIXTURES / "xlam_hub.jsonl"


def error_line(capsys: pytest.CaptureFixture) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("xlam=/no/such/file.jsonl", "tooln1: error: file not found: /no/such/file.jsonl"),
        ("bogus=x.json",
         "tooln1: error: unknown source 'bogus'; valid sources: xlam, toolace, sharegpt, toolrl, openai"),
        ("toolrl", "tooln1: error: source 'toolrl' has no default hub dataset; give toolrl=PATH"),
        (f"xlam={FIXTURES}",
         f"tooln1: error: {FIXTURES}: not a file; give a .json, .jsonl or .parquet file or a hub id like org/name"),
        (f"xlam={Path(__file__)}",
         f"tooln1: error: {Path(__file__)}: unsupported file type .py; expected one of .json, .jsonl, .parquet"),
    ],
)  # fmt: skip
def test_bad_sources_are_one_line_errors(source: str, message: str, tmp_path: Path, capsys) -> None:
    assert main(["data", "build", "--source", source, "--out", str(tmp_path / "out")]) == 2
    assert error_line(capsys) == message
    assert not (tmp_path / "out").exists()


def test_strict_stops_at_the_first_bad_record_with_its_location(tmp_path: Path, capsys) -> None:
    assert main(["data", "build", "--source", f"xlam={XLAM}", "--out", str(tmp_path / "o"), "--strict"]) == 2
    assert error_line(capsys) == (f"tooln1: error: {XLAM}:4: json:invalid: answers: Expecting ',' delimiter: line 1 "
                                  "column 52 (char 51)")  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_invalid_json_file_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "rows.json"
    bad.write_text('[{"query": "x"},')
    assert main(["data", "build", "--source", f"xlam={bad}", "--out", str(tmp_path / "o")]) == 2
    assert error_line(capsys).startswith(f"tooln1: error: {bad}: not valid JSON: ")


def test_unreachable_hub_is_a_one_line_error(tmp_path: Path) -> None:
    # HF_HUB_OFFLINE makes the hub unreachable at once (a real network failure takes ~25 s of retries).
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    argv = [sys.executable, "-m", "tooln1", "data", "build", "--source", "xlam", "--out", str(tmp_path / "o")]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    (line,) = [ln for ln in proc.stderr.splitlines() if ln.startswith("tooln1:")]
    assert line.startswith(
        "tooln1: error: cannot load hub dataset Salesforce/xlam-function-calling-60k (split train):"
    )
    assert "Traceback" not in proc.stderr and not (tmp_path / "o").exists()


def test_refuses_to_overwrite_an_unrelated_folder(tmp_path: Path, capsys) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["data", "synth", "--n", "5", "--out", str(tmp_path)]) == 2
    assert "is not an earlier tooln1 data output" in error_line(capsys)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_tokenizer_without_limit_is_an_error(tmp_path: Path, capsys) -> None:
    assert main(["data", "build", "--source", f"xlam={XLAM}", "--out", str(tmp_path / "o"), "--tokenizer", "x"]) == 2
    assert error_line(capsys) == "tooln1: error: --tokenizer only serves --max-prompt-tokens; give both"


def test_build_prints_the_report_and_writes_the_layout(tmp_path: Path, capsys) -> None:
    out = tmp_path / "built"
    args = ["data", "build", "--source", f"xlam={XLAM}", "--source", f"toolace={FIXTURES / 'toolace_hub.json'}",
            "--out", str(out), "--seed", "3", "--test-fraction", "0.2"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "json:invalid: 2" in printed and "call:unknown_tool: 1" in printed and f"wrote {out}" in printed
    report = json.loads((out / "report.json").read_text())
    assert report["settings"]["seed"] == 3 and report["splits"]["train"] + report["splits"]["test"] == 7
    test_dialogs = {json.loads(line)["dialog"] for line in (out / "test.jsonl").read_text().splitlines()}
    assert len(test_dialogs) == 1  # 20 % of the 6 dialogues with kept samples
    assert sorted(p.name for p in out.iterdir()) == [
        "hf",
        "openai",
        "report.json",
        "test.jsonl",
        "train.jsonl",
        "verl",
    ]
    first = (out / "train.jsonl").read_text()
    assert main(args) == 0  # same seed, same split; the earlier output is replaced
    assert (out / "train.jsonl").read_text() == first
    capsys.readouterr()
    assert main(["data", "check", str(out)]) == 0
    assert capsys.readouterr().out.startswith("ok: every gold scores 1.0 under the binary reward (train.jsonl: ")


def test_synth_then_check(tmp_path: Path, capsys) -> None:
    out = tmp_path / "synth"
    assert main(["data", "synth", "--n", "60", "--seed", "1", "--out", str(out)]) == 0
    assert sum(1 for _ in (out / "train.jsonl").open()) + sum(1 for _ in (out / "test.jsonl").open()) == 60
    assert json.loads((out / "report.json").read_text())["sources"]["synth"]["kept"] == 60
    capsys.readouterr()
    assert main(["data", "check", str(out)]) == 0
    with (out / "test.jsonl").open("a") as f:
        f.write('{"id": "broken"}\n')
    assert main(["data", "check", str(out)]) == 1
    assert "test.jsonl:7: not a sample" in capsys.readouterr().out


def test_check_of_a_folder_without_data(tmp_path: Path, capsys) -> None:
    assert main(["data", "check", str(tmp_path)]) == 2
    assert error_line(capsys) == f"tooln1: error: {tmp_path}: not a tooln1 data folder (no train.jsonl)"


@pytest.mark.parametrize("argv", [["--n", "0"], ["--n", "5", "--test-fraction", "1.0"]])
def test_argument_ranges_are_checked_by_argparse(argv: list[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as info:
        main(["data", "synth", "--out", str(tmp_path / "o"), *argv])
    assert info.value.code == 2

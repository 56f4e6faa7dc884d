"""No bad row aborts a build: hostile rows spread through real-size sources are dropped, counted and located.

The classes (tests/hostile.py): bytes that are not UTF-8, lone surrogates, nesting thousands deep, huge numbers,
in JSONL and in JSON-array sources, through the CLI; `--strict` stops at the first with its `file:line`.
benchmarks/bench_hostile_build.py runs the same at 70,000 rows.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tooln1 import safejson
from tooln1.cli import main
from tooln1.data import xlam
from tooln1.data.build import convert_records
from tooln1.data.reading import read_records
from tooln1.data.report import SourceReport

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile import BAD_ROWS, GOOD, REASONS, write_source  # noqa: E402

N_BAD = sum(map(len, BAD_ROWS.values()))


@pytest.mark.parametrize("array", [False, True], ids=["jsonl", "json-array"])
def test_every_bad_row_is_dropped_and_located_and_the_build_succeeds(array: bool, tmp_path: Path, capsys) -> None:
    src = tmp_path / ("rows.json" if array else "rows.jsonl")
    expected = write_source(src, good=1_000, array=array)
    assert len(expected) == N_BAD == 20
    out = tmp_path / "out"
    assert main(["data", "build", "--source", f"xlam={src}", "--out", str(out), "--test-fraction", "0.05"]) == 0
    r = json.loads((out / "report.json").read_text())["sources"]["xlam"]
    assert r["read"] == 1_000 + N_BAD and r["kept"] == 1_000
    assert r["dropped"] == {reason: len(rows) for reason, rows in BAD_ROWS.items()}
    located = {int(where.split(": ", 1)[0].rsplit(":", 1)[1]): reason
               for reason, examples in r["examples"].items() for where in examples}  # fmt: skip
    assert located == expected
    assert all(where.startswith(f"{src}:") for ex in r["examples"].values() for where in ex)
    # Everything written is valid UTF-8 JSON: no bad row leaked into an export.
    for f in (out / "train.jsonl", out / "test.jsonl", out / "openai" / "train.jsonl"):
        for line in f.read_bytes().decode("utf-8").splitlines():
            safejson.loads(line)
    assert main(["data", "check", str(out)]) == 0


@pytest.mark.parametrize("array", [False, True], ids=["jsonl", "json-array"])
def test_strict_stops_at_the_first_bad_row_of_any_class_with_file_line(array: bool, tmp_path: Path, capsys) -> None:
    for reason, rows in BAD_ROWS.items():
        for k, row in enumerate(rows):
            src = tmp_path / f"{reason.replace(':', '_')}-{k}{'.json' if array else '.jsonl'}"
            lines = [GOOD.replace(b"weather", f"weather {i}".encode()) for i in range(3)]
            lines.insert(2, row)
            body = b"[\n" + b",\n".join(lines) + b"\n]\n" if array else b"\n".join(lines) + b"\n"
            src.write_bytes(body)
            out = tmp_path / "out"
            assert main(["data", "build", "--source", f"xlam={src}", "--out", str(out), "--strict"]) == 2
            err = capsys.readouterr().err.strip().splitlines()[-1]
            line = 4 if array else 3
            assert err.startswith(f"tooln1: error: {src}:{line}: {reason}: "), (reason, k, err)
            assert not out.exists()


def test_a_missing_comma_in_a_json_array_spoils_only_the_elements_it_joins(tmp_path: Path) -> None:
    src = tmp_path / "rows.json"
    other = GOOD.replace(b"weather", b"time")
    src.write_bytes(b"[" + GOOD + b",\n" + other + b"\n" + other.replace(b"time", b"date") + b"]")
    report = SourceReport()
    samples = list(convert_records(xlam, read_records(str(src)), report, strict=False))
    assert len(samples) == 1 and report.dropped == {"json:invalid": 1}
    assert report.examples["json:invalid"][0].startswith(f"{src}:2: Extra data")


def test_a_json_file_that_is_not_an_array_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    src = tmp_path / "rows.json"
    src.write_bytes(b"[" + GOOD + b",")
    assert main(["data", "build", "--source", f"xlam={src}", "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"tooln1: error: {src}: not valid JSON: the array is not closed "
        "(unbalanced brackets or an unterminated string)"
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[" * 100_000 + "]" * 100_000, "json:too_deep"),
        ('{"a": ' * 3_000 + "1" + "}" * 3_000, "json:too_deep"),
        ("[" * 101 + "]" * 101, "json:too_deep"),
        ("[" * 5_000, "json:too_deep"),  # deep and unterminated: depth is found first
        ("1" * 4_301, "json:number_too_large"),
        ("-" + "1" * 101, "json:number_too_large"),
        ("[1e400]", "json:number_too_large"),
        ('"\\ud800"', "text:lone_surrogate"),
        ('{"\\udfff": 1}', "text:lone_surrogate"),  # in a key
        ("[NaN]", "json:invalid"),
        ("-Infinity", "json:invalid"),
        ('{"a": 1} x', "json:invalid"),
        ("\udcff", "text:not_utf8"),
    ],
)  # fmt: skip
def test_safejson_refuses_each_class_with_its_reason(text: str, reason: str) -> None:
    with pytest.raises(safejson.JsonProblem) as e:
        safejson.loads(text)
    assert e.value.reason == reason


def _nested_list(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("text", "value"),
    [("[" * 100 + "]" * 100, _nested_list(100)), ("9" * 100, int("9" * 100)), ('"\\ud83d\\ude00"', "😀"),
     ("1.5e300", 1.5e300), (' {"a": [1, null]} \n', {"a": [1, None]})],
)  # fmt: skip
def test_safejson_accepts_values_at_its_bounds(text: str, value: object) -> None:
    assert safejson.loads(text) == value


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.binary(max_size=40), at=st.integers(min_value=0, max_value=len(GOOD)))
def test_random_bytes_spliced_into_a_row_never_abort_conversion(junk: bytes, at: int, tmp_path: Path) -> None:
    src = tmp_path / "rows.jsonl"
    src.write_bytes(GOOD + b"\n" + GOOD[:at] + junk + GOOD[at:] + b"\n" + GOOD + b"\n")
    report = SourceReport()
    samples = list(convert_records(xlam, read_records(str(src)), report, strict=False))
    assert len(samples) >= 2  # the rows around it are intact
    assert len(samples) + sum(report.dropped.values()) + report.no_target == report.read
    assert set(report.dropped) <= {*REASONS, "json:invalid", "record:unparseable"}


@settings(max_examples=100, deadline=None)
@given(junk=st.text(max_size=60))
def test_safejson_raises_only_json_problem(junk: str) -> None:
    for text in (junk, f"[{junk}]", f'{{"a": {junk}}}'):
        try:
            safejson.loads(text)
        except safejson.JsonProblem as e:
            assert e.reason in safejson.REASONS
        try:
            list(safejson.split_array(text))
        except safejson.JsonProblem as e:
            assert e.reason == safejson.INVALID_JSON


def test_check_of_a_build_with_an_empty_test_split(tmp_path: Path, capsys) -> None:
    import datasets

    out = tmp_path / "out"
    assert main(["data", "synth", "--n", "4", "--test-fraction", "0", "--out", str(out)]) == 0
    assert len(datasets.load_from_disk(str(out / "hf"))["test"]) == 0  # the written folder loads, as TRL loads it
    capsys.readouterr()
    assert main(["data", "check", str(out)]) == 0
    assert "test.jsonl: 0, verl/test.parquet: 0, hf/test: 0" in capsys.readouterr().out
    # A folder written before the fix (an empty split saved with no shard, as `datasets` does by default).
    empty = datasets.Dataset.from_dict({"ground_truth": []}, features=datasets.Features(
        {"ground_truth": datasets.Value("string")}))  # fmt: skip
    empty.save_to_disk(str(out / "hf" / "test_old"))
    (out / "hf" / "test").rename(out / "hf" / "test_gone")
    (out / "hf" / "test_old").rename(out / "hf" / "test")
    assert main(["data", "check", str(out)]) == 0

"""Bad input to `tooln1 train` / `tooln1 export`: one line on stderr, exit status 2, no traceback.

Example:
    .venv/bin/pytest tests/train/test_train_cli.py -q
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from train_samples import TINY_RECIPE


def _tooln1(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tooln1", *args], capture_output=True, text=True, timeout=300)


def _assert_clean_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tooln1: error: "), proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_missing_dataset_column(samples_file: Path, tmp_path: Path) -> None:
    rows = [json.loads(line) for line in samples_file.read_text().splitlines()]
    del rows[0]["messages"]
    bad = tmp_path / "train.jsonl"
    bad.write_text("".join(json.dumps(r) + "\n" for r in rows))
    proc = _tooln1("train", "grpo", "--config", str(TINY_RECIPE), "--data", str(tmp_path),
                   "--output_dir", str(tmp_path / "run"))  # fmt: skip
    _assert_clean_error(proc, "missing required column 'messages'", "train.jsonl:1")


@pytest.mark.parametrize(
    ("override", "fragments"),
    [
        (["--lerning_rate", "1e-5"], ["unknown config key 'lerning_rate'", "did you mean learning_rate",
                                      "valid top-level"]),
        (["--sft.nope", "1"], ["unknown config key 'sft.nope'", "valid sft (trl.SFTConfig) keys:", "max_length"]),
    ],
)  # fmt: skip
def test_unknown_config_key(samples_file: Path, override: list[str], fragments: list[str]) -> None:
    _assert_clean_error(_tooln1("train", "sft", "--config", str(TINY_RECIPE), "--data", str(samples_file), *override),
                        *fragments)  # fmt: skip


def test_nonexistent_model_path(samples_file: Path, tmp_path: Path) -> None:
    proc = _tooln1("train", "grpo", "--config", str(TINY_RECIPE), "--data", str(samples_file),
                   "--model", str(tmp_path / "no-such-model"), "--output_dir", str(tmp_path / "run"))  # fmt: skip
    _assert_clean_error(proc, "model not found", "no-such-model")


def test_data_smaller_than_one_generation_batch(samples_file: Path, tmp_path: Path) -> None:
    # TRL's sampler would yield no batch at all: the run would end at step 0 with exit 0 and no metric line.
    proc = _tooln1("train", "grpo", "--config", str(TINY_RECIPE), "--data", str(samples_file), "--max_samples", "1",
                   "--per_device_train_batch_size", "4", "--num_generations", "2",
                   "--output_dir", str(tmp_path / "run"))  # fmt: skip
    _assert_clean_error(proc, "GRPO needs at least 2 prompts for one step", "the data has 1")
    assert not (tmp_path / "run" / "metrics.jsonl").exists()


def test_export_verl_cli(samples_file: Path, tmp_path: Path) -> None:
    proc = _tooln1("export", "verl", "--data", str(samples_file.parent), "--out", str(tmp_path / "verl"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == f"{tmp_path / 'verl' / 'train.parquet'} (8 rows)"
    _assert_clean_error(_tooln1("export", "verl", "--data", str(tmp_path / "none"), "--out", str(tmp_path)),
                        "data not found")  # fmt: skip

"""Shared test fixtures: where the third-party data lives (TOOLN1_DATA_DIR), and a tiny random model for fast runs.

Example:
    def test_rows(shared_data):
        assert (shared_data / "api-bank").is_dir()

Tests that read third-party data take its folder from one setting, `TOOLN1_DATA_DIR` (default: `../shared/data`
beside the clone). Where it is absent they are skipped with a message that says how to get it
(`tooln1 data fetch --out DIR`), except under CI (`CI=true`), where absence is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("TOOLN1_DATA_DIR") or REPO_ROOT.parent / "shared" / "data")


def data_missing_message(path: Path) -> str:
    return (f"third-party test data not found at {path}: run `tooln1 data fetch --out {path}` (or set "
            "TOOLN1_DATA_DIR to a folder that holds it)")  # fmt: skip


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (DATA_DIR / "api-bank").is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(data_missing_message(DATA_DIR) + "; CI=true makes missing data a failure", pytrace=False)
        pytest.skip(data_missing_message(DATA_DIR))
    return DATA_DIR


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-init model with the bundled tokenizer (see `tooln1.model.build_tiny_model`)."""
    from tooln1.model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))

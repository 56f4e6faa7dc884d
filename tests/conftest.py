"""Shared test fixtures: where the read-only shared data lives, and a tiny random model for fast real runs.

Example:
    def test_rows(shared_data):
        assert (shared_data / "api-bank").is_dir()
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# CI clones main into another folder with a copy of shared/ beside it, as in the session's checkout.
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    assert SHARED_DATA.is_dir(), f"shared data not found at {SHARED_DATA}"
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-init model with the bundled tokenizer (see `tooln1.model.build_tiny_model`)."""
    from tooln1.model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))

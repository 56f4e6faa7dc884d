"""Fixtures for the training tests: the hand-made samples as a JSONL file, and the tiny-model recipe.

Example:
    def test_x(samples_file, tiny_recipe):
        cfg = load_config(tiny_recipe, ["--data", str(samples_file)], mode="grpo")
"""

from __future__ import annotations

from pathlib import Path

import pytest
from train_samples import TINY_RECIPE, make_samples


@pytest.fixture(scope="session")
def samples_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("train-data") / "train.jsonl"
    path.write_text("".join(s.to_json() + "\n" for s in make_samples()), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_recipe() -> Path:
    return TINY_RECIPE

# Run by the verl virtualenv (test_train_verl.py), not importable here: not collected, not even for doctests.
collect_ignore = ["verl_probe.py"]

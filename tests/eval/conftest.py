"""Fixtures of the eval tests: a `tooln1 data`-style data dir (DIR/test.jsonl of Sample.to_json() lines), and the
ACEBench snapshot in ../shared/acebench (`acebench_root`).

Example:
    def test_x(make_data_dir):
        data = make_data_dir([Sample("a", "synth", [], [{"role": "user", "content": "hi"}], [])])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from tooln1.types import Sample


@pytest.fixture
def make_data_dir(tmp_path: Path) -> Callable[[Sequence[Sample]], Path]:
    def make(samples: Sequence[Sample]) -> Path:
        d = tmp_path / "data"
        d.mkdir()
        (d / "test.jsonl").write_text("".join(s.to_json() + "\n" for s in samples))
        return d

    return make


# The ACEBench snapshot beside the repo (see ../shared/acebench/MANIFEST.md), standing in for a checkout.
ACEBENCH_ROOT = Path(__file__).resolve().parents[2].parent / "shared" / "acebench"


@pytest.fixture(scope="session")
def acebench_root() -> str:
    assert (ACEBENCH_ROOT / "eval_main.py").is_file(), f"ACEBench snapshot not found at {ACEBENCH_ROOT}"
    return str(ACEBENCH_ROOT)

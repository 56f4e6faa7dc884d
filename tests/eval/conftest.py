"""Fixtures of the eval tests: a `tooln1 data`-style data dir (DIR/test.jsonl of Sample.to_json() lines).

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

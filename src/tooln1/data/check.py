"""`tooln1 data check DIR`: the conversion-correctness check of a built dataset.

Every gold call list, rendered as the perfect completion (`tooln1.prompt.canonical_completion`), must score 1.0
under the `binary` reward. A gold that cannot (not a list of `{"name", "arguments"}` objects, arguments that do
not survive JSON) is a conversion bug. The check runs on the sample JSONL files and on the `ground_truth` the
trainers read (verl parquet, HF dataset), which must also equal the JSONL gold row by row.

Example:
    $ tooln1 data synth --n 50 --seed 0 --out /tmp/synth && tooln1 data check /tmp/synth
    ok: every gold scores 1.0 under the binary reward (train.jsonl: 45, verl/train.parquet: 45, hf/train: 45,
    test.jsonl: 5, verl/test.parquet: 5, hf/test: 5)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tooln1.errors import UserError
from tooln1.prompt import canonical_completion
from tooln1.rewards import score
from tooln1.types import Sample, calls_to_json

SPLITS = ("train", "test")


@dataclass
class CheckResult:
    """How many rows each file had, and every failure as "file:row: why"."""

    rows: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def gold_problem(gold: Any) -> str | None:
    """Why `gold` (a JSON string or a call list) does not score 1.0 against its own canonical completion."""
    try:
        calls = json.loads(gold) if isinstance(gold, str) else gold
        result = score(canonical_completion(calls), gold, "binary")
    except (ValueError, TypeError, AttributeError, KeyError) as e:
        return f"malformed gold: {e}"
    return None if result.score == 1.0 else f"canonical completion scores {result.score} ({result.reason})"


def _check_column(result: CheckResult, name: str, golds: list[str], expected: list[str]) -> None:
    result.rows[name] = len(golds)
    if len(golds) != len(expected):
        result.failures.append(f"{name}: {len(golds)} rows, but the JSONL has {len(expected)}")
    for i, (gold, want) in enumerate(zip(golds, expected)):
        problem = gold_problem(gold) or (None if gold == want else "ground_truth differs from the JSONL gold")
        if problem:
            result.failures.append(f"{name}#{i}: {problem}")


def check_dir(path: str | Path) -> CheckResult:
    """Check every gold of a `tooln1 data build` / `synth` output folder."""
    root = Path(path)
    if not (root / "train.jsonl").is_file():
        raise UserError(f"{root}: not a tooln1 data folder (no train.jsonl)")
    result = CheckResult()
    for split in SPLITS:
        jsonl = root / f"{split}.jsonl"
        expected: list[str] = []
        lines = jsonl.read_text(encoding="utf-8").splitlines() if jsonl.is_file() else []
        for lineno, line in enumerate(lines, start=1):
            try:
                sample = Sample.from_json(line)
            except (ValueError, KeyError, TypeError) as e:
                result.failures.append(f"{jsonl.name}:{lineno}: not a sample: {e}")
                continue
            expected.append(calls_to_json(sample.gold))
            problem = gold_problem(sample.gold)
            if problem:
                result.failures.append(f"{jsonl.name}:{lineno} ({sample.id}): {problem}")
        result.rows[jsonl.name] = len(lines)
        parquet = root / "verl" / f"{split}.parquet"
        if parquet.is_file():
            import pyarrow.parquet as pq

            golds = [
                r["ground_truth"] for r in pq.read_table(parquet, columns=["reward_model"])["reward_model"].to_pylist()
            ]
            _check_column(result, f"verl/{split}.parquet", golds, expected)
        hf_split = root / "hf" / split
        if (hf_split / "state.json").is_file():
            _check_column(result, f"hf/{split}", _hf_golds(hf_split), expected)
    return result


def _hf_golds(path: Path) -> list[str]:
    """The `ground_truth` column of one saved split; an empty split saved without a shard (as `datasets` does,
    and `load_from_disk` cannot read) has none."""
    import datasets

    if not json.loads((path / "state.json").read_text(encoding="utf-8")).get("_data_files"):
        return []
    return list(datasets.load_from_disk(str(path))["ground_truth"])

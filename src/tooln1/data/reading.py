"""Read raw records from a local JSON / JSONL / parquet file or a Hugging Face hub dataset id, with locations.

Each record comes with a location for the report and for `--strict`: `file:LINE` for JSONL, `file#INDEX` for a
JSON array or a parquet file, `org/name#INDEX` for a hub dataset. JSONL lines are yielded undecoded, so a bad
line is counted as `json:invalid` by the build instead of stopping it.

Example:
    >>> from pathlib import Path; import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "rows.jsonl"
    >>> _ = p.write_text('{"a": 1}\\n\\n{"a": 2}\\n')
    >>> [(Path(loc).name, raw.strip()) for loc, raw in read_records(str(p))]
    [('rows.jsonl:1', '{"a": 1}'), ('rows.jsonl:3', '{"a": 2}')]

A missing file, an unsupported file type, a file that is not JSON at all, or an unreachable hub raises
`UserError` (one line, exit status 2).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tooln1.errors import UserError

logger = logging.getLogger(__name__)

Record = tuple[str, Any]
SUFFIXES = (".json", ".jsonl", ".parquet")


def is_hub_id(ref: str) -> bool:
    """`org/name` with no file suffix and not path-like: what `datasets.load_dataset` takes as a hub id."""
    return ref.count("/") == 1 and not ref.startswith((".", "/", "~")) and not ref.endswith(SUFFIXES)


def read_records(ref: str, split: str = "train") -> Iterator[Record]:
    """Yield `(location, raw)` for every record of a local file or a hub dataset (`split` is for the hub)."""
    path = Path(ref).expanduser()
    if path.is_file():
        return _read_file(path)
    if path.exists():
        raise UserError(f"{ref}: not a file; give a .json, .jsonl or .parquet file or a hub id like org/name")
    if is_hub_id(ref):
        return _read_hub(ref, split)
    raise UserError(f"file not found: {ref}")


def _read_file(path: Path) -> Iterator[Record]:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return _read_jsonl(path)
    if suffix == ".json":
        return _read_json(path)
    if suffix == ".parquet":
        return _read_parquet(path)
    raise UserError(f"{path}: unsupported file type {suffix or '(none)'}; expected one of {', '.join(SUFFIXES)}")


def _read_jsonl(path: Path) -> Iterator[Record]:
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if line.strip():
                yield f"{path}:{lineno}", line


def _read_json(path: Path) -> Iterator[Record]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        if e.msg == "Extra data":  # several JSON values in a .json file: it is JSON lines under another name
            yield from _read_jsonl(path)
            return
        raise UserError(f"{path}: not valid JSON: {e}") from None
    except UnicodeDecodeError as e:
        raise UserError(f"{path}: not UTF-8 text: {e}") from None
    if not isinstance(data, list):
        raise UserError(f"{path}: expected a JSON array of records, got a {type(data).__name__}")
    for i, row in enumerate(data):
        yield f"{path}#{i}", row


def _read_parquet(path: Path) -> Iterator[Record]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pfile = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as e:
        raise UserError(f"{path}: not a readable parquet file: {e}") from None
    i = 0
    for batch in pfile.iter_batches():
        for row in batch.to_pylist():
            yield f"{path}#{i}", row
            i += 1


def _read_hub(ref: str, split: str) -> Iterator[Record]:
    import datasets

    logger.info("loading %s (split %s) from the Hugging Face hub", ref, split)
    try:
        ds = datasets.load_dataset(ref, split=split)
    except (OSError, ValueError) as e:  # ConnectionError, DatasetNotFoundError (an OSError) and bad split names
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UserError(f"cannot load hub dataset {ref} (split {split}): {first}") from None
    for i, row in enumerate(ds):
        yield f"{ref}#{i}", row

"""Read raw records from a local JSON / JSONL / parquet file or a Hugging Face hub dataset id, with locations.

Each record comes with a location for the report and for `--strict`: `file:LINE` for JSONL and for a JSON array
(the line where the element starts), `file#INDEX` for a parquet file, `org/name#INDEX` for a hub dataset. JSON
text is yielded undecoded (JSONL lines, and array elements cut out by `safejson.split_array`) and bytes that are
not UTF-8 are kept as surrogate escapes, so a bad row (not UTF-8, too deep, a huge number, a lone surrogate, not
JSON) is counted by the build under its reason instead of stopping it.

Example:
    >>> from pathlib import Path; import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "rows.jsonl"
    >>> _ = p.write_text('{"a": 1}\\n\\n{"a": 2}\\n')
    >>> [(Path(loc).name, raw.strip()) for loc, raw in read_records(str(p))]
    [('rows.jsonl:1', '{"a": 1}'), ('rows.jsonl:3', '{"a": 2}')]

A missing file, an unsupported file type, a `.json` file that is not an array of values, or an unreachable hub raises
`UserError` (one line, exit status 2).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tooln1.errors import UserError
from tooln1.safejson import JsonProblem, decode_bytes, split_array

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
    # Bytes, decoded line by line: a byte that is not UTF-8 spoils only its own line (`safejson.NOT_UTF8`).
    with path.open("rb") as f:
        for lineno, line in enumerate(f, start=1):
            if line.strip():
                yield f"{path}:{lineno}", decode_bytes(line)


def _read_json(path: Path) -> Iterator[Record]:
    text = decode_bytes(path.read_bytes())
    if text.lstrip().startswith("{"):  # JSON objects one after another: JSON lines under another name
        yield from _read_jsonl(path)
        return
    try:
        # Elements are located but not decoded here, so a bad element is one bad record, as a bad JSONL line is.
        elements = list(split_array(text))
    except JsonProblem as e:
        raise UserError(f"{path}: not valid JSON: {e}") from None
    for lineno, element in elements:
        yield f"{path}:{lineno}", element


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

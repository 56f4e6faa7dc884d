"""Write a built dataset: sample JSONL, a Hugging Face dataset for TRL, verl parquet, OpenAI JSONL, the report.

Layout of an output folder (the same for `tooln1 data build` and `tooln1 data synth`):

    DIR/train.jsonl, DIR/test.jsonl      one `Sample.to_json()` per line (what every other stage reads)
    DIR/hf/                              `datasets.DatasetDict` (train, test), columns id, source, prompt (chat
                                         messages from `tooln1.prompt.build_messages`), ground_truth (JSON string)
    DIR/verl/train.parquet, test.parquet verl rows: data_source, prompt, ability, reward_model, extra_info (§1.6)
    DIR/openai/train.jsonl, test.jsonl   OpenAI chat rows (`tooln1.data.openai.to_openai`)
    DIR/report.json                      `BuildReport.to_dict()`

Everything is written under a temporary sibling folder that replaces DIR only once complete, so a failed run
leaves DIR as it was. Single files written on their own (`write_verl_parquet`) go through a temporary name and
`os.replace` for the same reason.

Example:
    >>> from tooln1.types import Sample, ToolCall
    >>> s = Sample("a", "xlam", [{"name": "f"}], [{"role": "user", "content": "hi"}], [ToolCall("f", {"x": 1})])
    >>> verl_row(s, build_messages(s), "train", 0)["reward_model"]
    {'style': 'rule', 'ground_truth': '[{"name": "f", "arguments": {"x": 1}}]'}
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tooln1.data.openai import to_openai
from tooln1.data.report import BuildReport
from tooln1.errors import UserError
from tooln1.prompt import DEFAULT_TEMPLATE, PromptTemplate, build_messages
from tooln1.types import Sample, calls_to_json

ABILITY = "toolcall"  # verl's `ability` column, as in the official parquet (§1.6)
MESSAGE_FIELDS = (("role", "string"), ("content", "string"))


@contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; it replaces `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def staged_dir(out: str | Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside `out`; it replaces `out` only if the block succeeds.

    An existing `out` is replaced only when it is empty or an earlier output (it holds report.json), so a typo
    in --out never wipes an unrelated folder.
    """
    out = Path(out)
    if out.exists() and not (out.is_dir() and (not any(out.iterdir()) or (out / "report.json").is_file())):
        raise UserError(f"{out} exists and is not an earlier tooln1 data output; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
    try:
        yield tmp
        if out.exists():
            old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
            os.replace(out, old / out.name)
            try:
                os.replace(tmp, out)
            except OSError:
                os.replace(old / out.name, out)  # put the earlier output back
                raise
            shutil.rmtree(old)
        else:
            os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_jsonl(rows: Iterator[str] | Sequence[str], path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(row + "\n")


def verl_row(sample: Sample, prompt: list[dict[str, str]], split: str, index: int) -> dict[str, Any]:
    """One verl RL row. `data_source` is the sample's source, so verl reports validation scores per source."""
    return {
        "data_source": sample.source,
        "prompt": prompt,
        "ability": ABILITY,
        "reward_model": {"style": "rule", "ground_truth": calls_to_json(sample.gold)},
        "extra_info": {"split": split, "index": index, "id": sample.id},
    }


def write_verl_parquet(
    samples: Sequence[Sample], path: str | Path, split: str, template: PromptTemplate = DEFAULT_TEMPLATE,
    prompts: Sequence[list[dict[str, str]]] | None = None,
) -> None:  # fmt: skip
    """Write verl parquet rows for `samples` to `path` atomically (`prompts` reuses already built messages)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    prompts = prompts if prompts is not None else [build_messages(s, template) for s in samples]
    rows = [verl_row(s, p, split, i) for i, (s, p) in enumerate(zip(samples, prompts, strict=True))]
    table = pa.Table.from_pylist(rows, schema=_verl_schema())
    with atomic_file(path) as tmp:
        pq.write_table(table, tmp)


def _verl_schema() -> Any:
    # Explicit, so that an empty split still has every column with its type.
    import pyarrow as pa

    return pa.schema([
        ("data_source", pa.string()),
        ("prompt", pa.list_(pa.struct([(k, pa.string()) for k, _ in MESSAGE_FIELDS]))),
        ("ability", pa.string()),
        ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
        ("extra_info", pa.struct([("split", pa.string()), ("index", pa.int64()), ("id", pa.string())])),
    ])  # fmt: skip


def hf_features() -> Any:
    """Column types of the TRL dataset (explicit, so an empty split keeps them)."""
    import datasets

    string = datasets.Value("string")
    message = datasets.List({k: datasets.Value(t) for k, t in MESSAGE_FIELDS})
    return datasets.Features({"id": string, "source": string, "prompt": message, "ground_truth": string})


def hf_columns(samples: Sequence[Sample], prompts: Sequence[list[dict[str, str]]]) -> dict[str, list]:
    """Columns of the TRL dataset: `prompt` (chat messages) and `ground_truth` (JSON string), plus id/source."""
    return {
        "id": [s.id for s in samples],
        "source": [s.source for s in samples],
        "prompt": list(prompts),
        "ground_truth": [calls_to_json(s.gold) for s in samples],
    }


def write_outputs(
    out: str | Path, splits: dict[str, list[Sample]], report: BuildReport, template: PromptTemplate = DEFAULT_TEMPLATE
) -> Path:
    """Write every format of the layout above into `out`, atomically. Returns `out`."""
    import datasets

    with staged_dir(out) as tmp:
        hf = {}
        for split, samples in splits.items():
            prompts = [build_messages(s, template) for s in samples]
            write_jsonl((s.to_json() for s in samples), tmp / f"{split}.jsonl")
            (tmp / "openai").mkdir(exist_ok=True)
            write_jsonl(
                (json.dumps(to_openai(s), ensure_ascii=False) for s in samples), tmp / "openai" / f"{split}.jsonl"
            )
            write_verl_parquet(samples, tmp / "verl" / f"{split}.parquet", split, prompts=prompts)
            hf[split] = datasets.Dataset.from_dict(hf_columns(samples, prompts), features=hf_features())
        # One shard per split even when empty: `datasets` writes an empty split with no shard at all, which
        # `load_from_disk` then fails to read (IndexError).
        datasets.DatasetDict(hf).save_to_disk(str(tmp / "hf"), num_shards={split: 1 for split in hf})
        (tmp / "report.json").write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
    return Path(out)

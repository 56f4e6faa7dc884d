"""Resumable evaluation runs: results are appended as they finish, and a rerun skips finished items.

A run directory holds `run.json` (what produced the results: benchmark, model, backend, generation settings) and
`results.jsonl`, one line per finished item:

    {"id": "simple_python_0", "category": "simple_python", "completion": "<think>…</think><tool_call>…",
     "calls": [{"name": "calculate_triangle_area", "arguments": {"base": 10, "height": 5}}],
     "correct": true, "error": null}

Each line is flushed when its item finishes, so an interrupt loses at most the batch in flight; a line cut short
by a hard kill is dropped on the next start. Rerunning with another model or other settings in the same directory
is refused (the results would mix), with a message naming the difference.

Example:
    >>> rows = run_items(items, lambda: HFBackend("bundled", GenSettings()), Path("runs/bfcl"), bfcl_score,
    ...                  {"benchmark": "bfcl", "model": "bundled"})  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from tooln1.errors import UserError
from tooln1.eval.backends import Backend
from tooln1.types import Sample

logger = logging.getLogger(__name__)

RESULTS = "results.jsonl"
RUN_CONFIG = "run.json"


@dataclass(frozen=True)
class EvalItem:
    """One prompt to answer: its benchmark id, the category it is reported under, and the sample to render."""

    id: str
    category: str
    sample: Sample


@dataclass(frozen=True)
class Verdict:
    """A scored completion: correct or not, why not (a reason code or the checker's message), the parsed calls."""

    correct: bool
    error: str | None
    calls: list[dict[str, Any]] | None


ScoreFn = Callable[[EvalItem, str], Verdict]


def result_row(item: EvalItem, completion: str, verdict: Verdict) -> dict[str, Any]:
    return {
        "id": item.id,
        "category": item.category,
        "completion": completion,
        "calls": verdict.calls,
        "correct": verdict.correct,
        "error": verdict.error,
    }


def load_results(path: Path) -> dict[str, dict[str, Any]]:
    """Finished rows by id. A last line without its newline (a run killed mid-write) is cut off the file."""
    if not path.is_file():
        return {}
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
        logger.warning("%s: dropping a partly written last line", path)
        with path.open("r+b") as f:
            f.truncate(keep)
        data = data[:keep]
    rows: dict[str, dict[str, Any]] = {}
    for lineno, line in enumerate(data.decode("utf-8").splitlines(), start=1):
        try:
            row = json.loads(line)
            rows[str(row["id"])] = row
        except (ValueError, KeyError, TypeError):
            raise UserError(f"{path}:{lineno}: not a results line; move the file away to start over") from None
    return rows


def check_run_config(out_dir: Path, config: dict[str, Any]) -> None:
    """Record `config` in `run.json`, or refuse when existing results came from a different configuration."""
    path = out_dir / RUN_CONFIG
    if path.is_file():
        old = json.loads(path.read_text(encoding="utf-8"))
        diff = sorted(k for k in set(old) | set(config) if old.get(k) != config.get(k))
        if diff and (out_dir / RESULTS).is_file():
            shown = ", ".join(f"{k}: {old.get(k)!r} -> {config.get(k)!r}" for k in diff)
            raise UserError(f"{out_dir} holds results of another run ({shown}); use another --out")
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def resume_results(out_dir: Path, config: dict[str, Any], ids: Sequence[str], unit: str) -> tuple[Path, dict]:
    """Check the run's config and return its results path and the rows already there, by id (logged if any)."""
    check_run_config(out_dir, config)
    path = out_dir / RESULTS
    done = load_results(path)
    if already := sum(i in done for i in ids):
        logger.info("%s: %d of %d %s already done, resuming", path, already, len(ids), unit)
    return path, done


def run_items(
    items: Sequence[EvalItem],
    make_backend: Callable[[], Backend],
    out_dir: Path,
    score_fn: ScoreFn,
    config: dict[str, Any],
) -> list[dict[str, Any]]:
    """Generate and score every unfinished item, appending each result as it finishes; return rows in item order.

    The backend is built only when something is left to do, so a finished run reports without loading a model.
    """
    path, done = resume_results(out_dir, config, [it.id for it in items], "items")
    pending = [it for it in items if it.id not in done]
    if not pending:
        return [done[it.id] for it in items]
    backend = make_backend()
    desc = f"{config.get('benchmark', 'eval')} ({backend.name})"
    with path.open("a", encoding="utf-8") as log, tqdm(
        total=len(items), initial=len(items) - len(pending), desc=desc, unit="item", dynamic_ncols=True
    ) as bar:
        for i, completion in backend.generate([it.sample for it in pending]):
            row = result_row(pending[i], completion, score_fn(pending[i], completion))
            log.write(json.dumps(row, ensure_ascii=False) + "\n")
            log.flush()
            done[row["id"]] = row
            bar.update()
    return [done[it.id] for it in items]

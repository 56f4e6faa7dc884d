"""Which checkpoint `--resume` continues from: the newest *complete* one, with every skipped one named and why.

transformers writes a checkpoint in place, trainer state last: weights, then optimizer, scheduler and RNG state,
then `trainer_state.json` (not atomically). A `kill -9` during a save therefore leaves a `checkpoint-N/` without
the state file, or with half of it; a kill while old checkpoints are rotated out leaves one with files missing.
`transformers.trainer_utils.get_last_checkpoint` picks the highest N regardless, and resuming from it fails. Here a
checkpoint is complete when its state file parses and names step N, and its weights (and, unless the run saves
only the model, optimizer and scheduler) are all present and not truncated.

Example:
    >>> import tempfile; from pathlib import Path
    >>> run = Path(tempfile.mkdtemp()); (run / "checkpoint-3").mkdir()
    >>> latest_complete(run)
    (None, [('checkpoint-3', 'no trainer_state.json (killed during the save?)')])
"""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

STATE_FILE = "trainer_state.json"
WEIGHTS = ("model.safetensors", "adapter_model.safetensors", "pytorch_model.bin", "adapter_model.bin")
SHARD_INDEXES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
TRAINING_STATE = ("optimizer.pt", "scheduler.pt")
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


def checkpoints(run: Path) -> list[tuple[int, Path]]:
    """`(step, folder)` of every `checkpoint-N` folder, newest first."""
    found = [(int(m.group(1)), p) for p in run.iterdir() if p.is_dir() and (m := _CHECKPOINT.match(p.name))]
    return sorted(found, reverse=True)


def _safetensors_problem(path: Path) -> str | None:
    """Why a safetensors file is truncated (its header states its own length), or None."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
        if len(head) < 8:
            return f"{path.name} is truncated"
        header_len = struct.unpack("<Q", head)[0]
        if size < 8 + header_len:
            return f"{path.name} is truncated"
        try:
            header = json.loads(f.read(header_len))
        except ValueError:
            return f"{path.name} has a broken header"
    ends = [t["data_offsets"][1] for k, t in header.items() if k != "__metadata__" and isinstance(t, dict)]
    if size < 8 + header_len + max(ends, default=0):
        return f"{path.name} is truncated"
    return None


def _weights_problem(folder: Path) -> str | None:
    for index in SHARD_INDEXES:
        if (folder / index).is_file():
            try:
                shards = set(json.loads((folder / index).read_text())["weight_map"].values())
            except (ValueError, KeyError, TypeError):
                return f"{index} is unreadable"
            missing = sorted(s for s in shards if not (folder / s).is_file())
            if missing:
                return f"weight shard {missing[0]} is missing"
            return next(filter(None, (_safetensors_problem(folder / s) for s in shards if s.endswith(".safetensors"))),
                        None)  # fmt: skip
    for name in WEIGHTS:
        if (folder / name).is_file():
            return _safetensors_problem(folder / name) if name.endswith(".safetensors") else None
    return "no model weights"


def problem(folder: Path, step: int, needs_training_state: bool = True) -> str | None:
    """Why `folder` (checkpoint-`step`) cannot be resumed from, or None when it is complete."""
    state = folder / STATE_FILE
    if not state.is_file():
        return f"no {STATE_FILE} (killed during the save?)"
    try:
        saved_step = json.loads(state.read_text(encoding="utf-8"))["global_step"]
    except (ValueError, KeyError, TypeError):
        return f"{STATE_FILE} is unreadable (killed while it was written?)"
    if saved_step != step:
        return f"{STATE_FILE} says step {saved_step}, the folder says {step}"
    weights = _weights_problem(folder)
    if weights:
        return weights
    if needs_training_state:
        missing = [n for n in TRAINING_STATE if not (folder / n).is_file()]
        if missing:
            return f"{missing[0]} is missing"
    return None


def latest_complete(run: Path, needs_training_state: bool = True) -> tuple[Path | None, list[tuple[str, str]]]:
    """The newest complete checkpoint of `run` (or None), and `(folder name, why)` of each newer one skipped."""
    skipped = []
    for step, folder in checkpoints(run):
        why = problem(folder, step, needs_training_state)
        if why is None:
            return folder, skipped
        skipped.append((folder.name, why))
    return None, skipped

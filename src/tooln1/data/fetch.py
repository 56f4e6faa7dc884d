"""`tooln1 data fetch`: download the public third-party test data (API-Bank, ToolRL, Hammer, glaive, ToolACE
subsets) from the upstream repositories and commits its manifest names, checking every file's sha256.

The manifest (`third_party.json` beside this module, made from the data set's MANIFEST.md) lists, per file, the
local path, the GitHub repository, the commit, the path there and the sha256. A file is written only once its
bytes match (through a temporary name), a file already present with the right hash is kept as is, and a mismatch
or a failed download is reported by path; the exit status is 1 if any file is missing or wrong at the end.

Example:
    $ tooln1 data fetch --out ../shared/data           # where the tests look by default (TOOLN1_DATA_DIR)
    fetched 274 files into ../shared/data (274 downloaded, 0 already there), all sha256 checked
    $ tooln1 data fetch --out /tmp/d --mirror ../shared/data     # from a local copy instead of GitHub
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tooln1.errors import UserError

logger = logging.getLogger(__name__)

MANIFEST = Path(__file__).with_name("third_party.json")
RAW_URL = "https://raw.githubusercontent.com/{repo}/{commit}/{source}"
TIMEOUT_S = 60


@dataclass(frozen=True)
class Entry:
    path: str
    repo: str
    commit: str
    source: str
    sha256: str

    def url(self) -> str:
        return RAW_URL.format(repo=self.repo, commit=self.commit, source=self.source)


def entries(manifest: Path = MANIFEST) -> list[Entry]:
    return [Entry(**row) for row in json.loads(manifest.read_text(encoding="utf-8"))["files"]]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read(entry: Entry, mirror: Path | None) -> bytes:
    if mirror is not None:
        return (mirror / entry.path).read_bytes()
    with urllib.request.urlopen(entry.url(), timeout=TIMEOUT_S) as response:  # noqa: S310 (a fixed https URL)
        return response.read()


def fetch(out: Path, mirror: Path | None = None, manifest: Path = MANIFEST) -> tuple[int, int, list[str]]:
    """Fetch every manifest file into `out`; returns (downloaded, already there, problems as "path: why")."""
    downloaded, present, problems = 0, 0, []
    for entry in entries(manifest):
        target = out / entry.path
        if target.is_file() and sha256(target) == entry.sha256:
            present += 1
            continue
        try:
            data = _read(entry, mirror)
        except (OSError, urllib.error.URLError) as e:  # URLError is an OSError; named for the reader
            where = entry.url() if mirror is None else mirror / entry.path
            problems.append(f"{entry.path}: cannot fetch {where}: {e}")
            continue
        got = hashlib.sha256(data).hexdigest()
        if got != entry.sha256:
            problems.append(f"{entry.path}: sha256 {got} differs from the manifest's {entry.sha256}; not written")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
        downloaded += 1
    return downloaded, present, problems


def run_fetch(out: Path, mirror: Path | None) -> int:
    """The CLI action: prints a summary and every problem; exit status 1 when any file is missing or wrong."""
    import sys

    if mirror is not None and not mirror.is_dir():
        raise UserError(f"--mirror {mirror}: not a folder")
    downloaded, present, problems = fetch(out, mirror)
    for line in problems:
        sys.stdout.write(f"  {line}\n")
    total = downloaded + present
    if problems:
        sys.stdout.write(f"FAILED: {len(problems)} of {total + len(problems)} files not fetched into {out}\n")
        return 1
    sys.stdout.write(f"fetched {total} files into {out} ({downloaded} downloaded, {present} already there), "
                     "all sha256 checked\n")  # fmt: skip
    return 0

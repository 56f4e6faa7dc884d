"""`tooln1 data fetch` checks every sha256 (tested against local copies: this machine has no internet), and the
data-dependent tests skip with a how-to where the data is absent, or fail under CI=true.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from tooln1.cli import main
from tooln1.data.fetch import entries, fetch

REPO = Path(__file__).resolve().parents[2]


def _manifest(tmp_path: Path, files: dict[str, bytes]) -> Path:
    rows = [{"path": p, "repo": "o/r", "commit": "c0ffee", "source": f"up/{p}",
             "sha256": hashlib.sha256(b).hexdigest()} for p, b in files.items()]  # fmt: skip
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"files": rows}))
    return path


def test_a_copy_whose_bytes_differ_is_refused_and_not_written(tmp_path: Path) -> None:
    files = {"a/one.json": b"[1]\n", "b/two.jsonl": b'{"x": 2}\n', "three.parquet": b"PAR1"}
    manifest = _manifest(tmp_path, files)
    mirror = tmp_path / "mirror"
    for p, data in files.items():
        (mirror / p).parent.mkdir(parents=True, exist_ok=True)
        (mirror / p).write_bytes(data)
    (mirror / "b/two.jsonl").write_bytes(b'{"x": 3}\n')  # one byte changed
    (mirror / "three.parquet").unlink()  # and one missing
    out = tmp_path / "out"
    downloaded, present, problems = fetch(out, mirror, manifest)
    assert (downloaded, present) == (1, 0)
    assert problems[0].startswith("b/two.jsonl: sha256 ") and problems[0].endswith("differs from the manifest's "
                                  f"{hashlib.sha256(files['b/two.jsonl']).hexdigest()}; not written")  # fmt: skip
    assert problems[1].startswith("three.parquet: cannot fetch ")
    assert (out / "a/one.json").read_bytes() == files["a/one.json"]
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == ["one.json"]  # no partial or temporary file
    (mirror / "b/two.jsonl").write_bytes(files["b/two.jsonl"])
    (mirror / "three.parquet").write_bytes(files["three.parquet"])
    assert fetch(out, mirror, manifest) == (2, 1, [])  # the good one is kept, the rest fetched


def test_the_manifest_names_upstream_commits_and_fetches_the_real_set(shared_data: Path, tmp_path: Path,
                                                                       capsys) -> None:  # fmt: skip
    rows = entries()
    assert len(rows) == 274 and all(len(e.sha256) == 64 for e in rows)
    assert rows[0].url().startswith("https://raw.githubusercontent.com/AlibabaResearch/DAMO-ConvAI/")
    sft = next(e for e in rows if e.path == "toolrl-rlla/rlla_sft.json")
    assert sft.url() == ("https://raw.githubusercontent.com/qiancheng0/ToolRL/8cee13ec0ca72f0461da372a93a6fd8140dbb840"
                         "/dataset/rlla_4k_raw/rlla_sft.json")  # fmt: skip
    out = tmp_path / "data"
    assert main(["data", "fetch", "--out", str(out), "--mirror", str(shared_data)]) == 0
    assert capsys.readouterr().out.strip() == (f"fetched 274 files into {out} (274 downloaded, 0 already there), "
                                               "all sha256 checked")  # fmt: skip
    assert main(["data", "fetch", "--out", str(out), "--mirror", str(shared_data)]) == 0
    assert "(0 downloaded, 274 already there)" in capsys.readouterr().out


def test_without_the_data_its_tests_skip_with_a_how_to_and_fail_under_ci(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
            str(REPO / "tests" / "eval" / "test_apibank.py")]  # fmt: skip
    env = {**os.environ, "TOOLN1_DATA_DIR": str(tmp_path / "nothing"), "PYTHONPATH": str(REPO / "src")}
    env.pop("CI", None)
    skipped = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert skipped.returncode == 0, skipped.stdout[-2000:]
    assert " skipped" in skipped.stdout and "failed" not in skipped.stdout and "error" not in skipped.stdout
    assert f"run `tooln1 data fetch --out {tmp_path / 'nothing'}`" in skipped.stdout
    failed = subprocess.run(argv, env={**env, "CI": "true"}, capture_output=True, text=True, timeout=600, check=False)
    assert failed.returncode == 1 and "CI=true makes missing data a failure" in failed.stdout, failed.stdout[-2000:]

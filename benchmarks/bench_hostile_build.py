"""The acceptance run of issue 14: a 70,000-row xLAM-format file with every hostile row class spread through it.

Example:
    $ PYTHONPATH=src .venv/bin/python benchmarks/bench_hostile_build.py            # 70,000 rows, JSONL
    $ PYTHONPATH=src .venv/bin/python benchmarks/bench_hostile_build.py --array    # the same as a JSON array

The file is generated at run time (tests/hostile.py: bytes that are not UTF-8, lone surrogates, nesting thousands
deep as a field and inside a JSON-string field, integer literals of thousands of digits), then built twice through
the real CLI in a subprocess: without `--strict` (must exit 0 with every bad row counted under its reason at its
`file:line`) and with `--strict` (must exit 2 naming the first bad row's `file:line`). Prints what it saw and exits 1
on any mismatch.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from hostile import BAD_ROWS, write_source  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=70_000, help="total rows, bad ones included")
    parser.add_argument("--array", action="store_true", help="write a JSON array instead of JSON lines")
    args = parser.parse_args()
    n_bad = sum(map(len, BAD_ROWS.values()))
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / ("xlam.json" if args.array else "xlam.jsonl")
        expected = write_source(src, good=args.rows - n_bad, array=args.array)
        print(f"{src.name}: {args.rows:,} rows, {n_bad} bad at lines {sorted(expected)}")
        cli = [sys.executable, "-m", "tooln1", "data", "build", "--source", f"xlam={src}"]
        t0 = time.perf_counter()
        proc = subprocess.run([*cli, "--out", f"{tmp}/out"], capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - t0
        print(f"build: exit {proc.returncode} in {elapsed:.1f} s")
        if proc.returncode != 0:
            print(proc.stderr[-2000:])
            return 1
        r = json.loads(Path(f"{tmp}/out/report.json").read_text())["sources"]["xlam"]
        print(f"read {r['read']:,}, kept {r['kept']:,}, dropped {r['dropped']}")
        for reason, where in sorted(r["examples"].items()):
            for w in where:
                print(f"  {reason:24} {w[:110]}")
        located = {int(w.split(": ", 1)[0].rsplit(":", 1)[1]): reason
                   for reason, ws in r["examples"].items() for w in ws if reason in BAD_ROWS}  # fmt: skip
        ok &= located == expected and r["dropped"] == {k: len(v) for k, v in BAD_ROWS.items() if v} | {
            k: v for k, v in r["dropped"].items() if k == "sample:duplicate"}  # fmt: skip
        strict = [*cli, "--out", f"{tmp}/strict", "--strict"]
        proc = subprocess.run(strict, capture_output=True, text=True, check=False)
        first = min(expected)
        err = proc.stderr.strip().splitlines()[-1]
        print(f"--strict: exit {proc.returncode}: {err[:150]}")
        ok &= proc.returncode == 2 and err.startswith(f"tooln1: error: {src}:{first}: {expected[first]}: ")
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

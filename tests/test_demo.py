"""The demo pipeline end to end in its reduced mode (tiny model, a few tasks, 1 step), and its resume.

Example:
    .venv/bin/pytest tests/test_demo.py -q
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tooln1.demo.pipeline import STAGES


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "run"
    r = subprocess.run([sys.executable, "-m", "tooln1", "demo", "--smoke", "--out", str(out)],
                       capture_output=True, text=True, timeout=600)  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    assert "after GRPO" in r.stdout and f"report: {out / 'report.md'}" in r.stdout
    return out


def test_every_stage_finished_and_left_its_artifacts(smoke_run: Path) -> None:
    state = json.loads((smoke_run / "state.json").read_text())
    assert list(state["done"]) == list(STAGES)
    assert (smoke_run / "data" / "train.jsonl").is_file() and (smoke_run / "data" / "test.jsonl").is_file()
    for stage in ("base", "sft", "final"):
        rows = [json.loads(x) for x in (smoke_run / "eval" / stage / "heldout" / "results.jsonl").read_text().splitlines()]
        assert len(rows) == 4 and all(isinstance(r["correct"], bool) and "completion" in r for r in rows)
    for stage in ("base", "final"):
        rows = (smoke_run / "eval" / stage / "bfcl" / "results.jsonl").read_text().splitlines()
        assert len(rows) == 4  # one entry of each BFCL subset category
    for mode in ("sft", "grpo"):
        assert (smoke_run / mode / "model.safetensors").is_file()
        assert (smoke_run / mode / "metrics.jsonl").read_text().strip()
    assert (smoke_run / "grpo_training_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_json_has_the_promised_shape(smoke_run: Path) -> None:
    numbers = json.loads((smoke_run / "report.json").read_text())
    assert numbers["heldout"]["n"] == 4 and numbers["bfcl_subset"]["n"] == 4
    for key in ("before", "rl_start", "after"):
        assert 0.0 <= numbers["heldout"][key] <= 1.0
    for key in ("before", "after"):
        assert 0.0 <= numbers["bfcl_subset"][key] <= 1.0
    train = numbers["train"]
    assert train["steps"] == 1 and train["prompts_per_step"] == 2  # configs/tiny_ci.yaml: 4 completions, G=2
    assert train["first5_reward"] == train["last5_reward"]  # one step: the same step
    assert train["rl_minutes"] > 0 and isinstance(train["heldout_points_per_rl_minute"], float)
    assert 0 < numbers["minutes"] < 10
    report = (smoke_run / "report.md").read_text()
    assert "| untrained |" in report and "| after SFT warm-up (RL start) |" in report and "| after GRPO |" in report
    assert "grpo_training_curves.png" in report and "held-out points added by the stage" in report


def test_rerun_continues_only_unfinished_stages(smoke_run: Path) -> None:
    state_path = smoke_run / "state.json"
    state = json.loads(state_path.read_text())
    kept_grpo_seconds = state["done"]["grpo"]["seconds"]
    for stage in ("eval-final", "report"):  # as if Ctrl-C hit during the last evaluation
        del state["done"][stage]
    state_path.write_text(json.dumps(state))
    r = subprocess.run([sys.executable, "-m", "tooln1", "demo", "--out", str(smoke_run)],
                       capture_output=True, text=True, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    assert "resuming demo" in r.stderr
    assert "[6/8] grpo" not in r.stderr and "[7/8] eval-final" in r.stderr
    state = json.loads(state_path.read_text())
    assert list(state["done"]) == list(STAGES) and state["done"]["grpo"]["seconds"] == kept_grpo_seconds


def test_progress_is_throttled_in_a_log_file(caplog: pytest.LogCaptureFixture) -> None:
    """Off a terminal every update would be a log line (150 per evaluation); only the first and the last remain."""
    import io
    import logging

    from rich.console import Console

    from tooln1.demo.display import Display

    display = Display(8, console=Console(file=io.StringIO(), force_terminal=False))
    display.begin(3, "eval-base", "evaluate")
    with caplog.at_level(logging.INFO, logger="tooln1.demo.display"):
        for done in range(1, 151):
            display.update(done, 150, "item")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert "item 1/150" in lines[0] and "item 150/150" in lines[1]


def test_multi_turn_demo_evaluates_with_the_recipe_prompt_file(tmp_path, monkeypatch) -> None:
    # The multi-turn demo trains with configs/cpu_demo.yaml's compact prompt wording; its evaluations must render
    # the same prompts (they ran with the default wording before), from any working folder.
    from tooln1.demo.multiturn import _prompt_file

    monkeypatch.chdir(tmp_path)
    flag, path = _prompt_file("configs/cpu_demo.yaml")
    assert flag == "--prompt-file" and path.endswith("configs/prompts/cpu_compact.yaml")
    assert Path(path).is_absolute() and Path(path).is_file()  # found in the repository, not the working folder
    assert _prompt_file("configs/tiny_ci.yaml") == []

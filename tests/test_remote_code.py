"""A model folder that names its own Python code (`auto_map`) is refused by every loader, and nothing in it runs.

The folder is the tiny test model plus an `auto_map` pointing at `evil.py`, whose import writes a marker file:
the marker is the proof of whether the folder's code ran. `--trust-remote-code` is the one way to run it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tooln1.cli import main
from tooln1.types import Sample, ToolCall

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def evil_model(tiny_model_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "evil-model"
    shutil.copytree(tiny_model_dir, folder)
    marker = tmp_path / "code-ran"
    (folder / "evil.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n"
        "from transformers import Gemma3ForCausalLM, Gemma3TextConfig\n\n"
        "class EvilConfig(Gemma3TextConfig):\n    pass\n\n"
        "class EvilModel(Gemma3ForCausalLM):\n    config_class = EvilConfig\n"
    )
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoConfig": "evil.EvilConfig", "AutoModelForCausalLM": "evil.EvilModel"}
    (folder / "config.json").write_text(json.dumps(config))
    return folder, marker


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    s = Sample("a", "synth", [{"name": "f"}], [{"role": "user", "content": "hi"}], [ToolCall("f", {})])
    (d / "test.jsonl").write_text(s.to_json() + "\n")
    (d / "train.jsonl").write_text((s.to_json() + "\n") * 2)  # tiny_ci's GRPO step takes 2 prompts
    return d


def test_serve_eval_train_and_data_build_refuse_an_auto_map_folder(evil_model, data_dir, tmp_path, capsys) -> None:
    folder, marker = evil_model
    commands = {
        "eval": ["eval", "heldout", "--model", str(folder), "--data", str(data_dir), "--out", str(tmp_path / "e")],
        "train": ["train", "grpo", "--config", str(REPO / "configs" / "tiny_ci.yaml"), "--model", str(folder),
                  "--data", str(data_dir), "--output_dir", str(tmp_path / "t")],
        "data build": ["data", "build", "--source", f"xlam={tmp_path / 'none.jsonl'}", "--out", str(tmp_path / "d"),
                       "--max-prompt-tokens", "100", "--tokenizer", str(folder)],
    }  # fmt: skip
    (tmp_path / "none.jsonl").write_text(
        json.dumps({"query": "q", "tools": [{"name": "f"}], "answers": [{"name": "f", "arguments": {}}]}) + "\n"
    )
    for name, argv in commands.items():
        assert main(argv) == 2, name
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert err.startswith(f"tooln1: error: {folder} ships its own Python code (config.json has an auto_map"), name
        assert "--trust-remote-code" in err
    # serve, as a user starts it: a real process with no terminal (it used to prompt, then die with a traceback).
    proc = subprocess.run(
        [sys.executable, "-m", "tooln1", "serve", "--model", str(folder), "--port", "0"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300, check=False,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "ships its own Python code" in proc.stderr
    assert not marker.exists()  # nothing in the folder ran


def test_trust_remote_code_is_the_explicit_opt_in(evil_model, data_dir, tmp_path) -> None:
    folder, marker = evil_model
    assert main(["eval", "heldout", "--model", str(folder), "--data", str(data_dir), "--out", str(tmp_path / "e"),
                 "--trust-remote-code", "--max-new-tokens", "2", "--dtype", "float32"]) == 0  # fmt: skip
    assert marker.read_text() == "ran"

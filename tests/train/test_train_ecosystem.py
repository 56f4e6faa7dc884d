"""Training through other tools' entry points: a flat TRL GRPOConfig YAML under `tooln1 train grpo`, TRL's own
`trl grpo` with our exported reward, and two ranks over gloo under `torchrun` (the working multi-process CPU way).

Example:
    .venv/bin/pytest -q tests/train/test_train_ecosystem.py

Real processes on the tiny random model (tooln1.model.build_tiny_model), one or two GRPO steps each.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tooln1.train.callbacks import SUMMARY_FILE, read_metrics

from train_samples import REPO, make_samples

# What `trl grpo --config` takes: GRPOConfig fields at the top level (configs/tiny_ci.yaml's sizes), no nesting.
FLAT = """\
num_generations: 2
per_device_train_batch_size: 4
gradient_accumulation_steps: 1
max_completion_length: 8
learning_rate: 1.0e-3
beta: 0.001
entropy_coef: 0.01
loss_type: dapo
max_steps: 1
logging_steps: 1
save_strategy: "no"
use_cpu: true
bf16: false
activation_checkpointing: false
seed: 0
disable_tqdm: true
report_to: none
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}


def _run(cmd: list[str], cwd: Path, timeout: int = 1800) -> subprocess.CompletedProcess:
    out = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, (out.stdout[-2000:], out.stderr[-4000:])
    return out


@pytest.mark.slow
def test_tooln1_train_grpo_runs_one_step_on_a_flat_trl_config(tiny_model_dir: Path, samples_file: Path, tmp_path):
    flat = tmp_path / "flat_grpo.yaml"
    flat.write_text(FLAT)
    run = tmp_path / "run"
    _run([sys.executable, "-m", "tooln1", "train", "grpo", "--config", str(flat), "--model", str(tiny_model_dir),
          "--data", str(samples_file), "--output_dir", str(run)], tmp_path)  # fmt: skip
    (m,) = read_metrics(run)
    assert m["step"] == 1 and "reason/ok" in m and m["completions/mean_length"] <= 8
    assert (run / "model.safetensors").is_file()


@pytest.fixture(scope="module")
def hf_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Hugging Face dataset `tooln1 data build` writes to DIR/hf (prompt + ground_truth columns)."""
    import datasets

    from tooln1.data.export import hf_columns, hf_features
    from tooln1.prompt import build_messages

    samples = make_samples()
    columns = hf_columns(samples, [build_messages(s) for s in samples])
    out = tmp_path_factory.mktemp("data") / "hf"
    datasets.DatasetDict({"train": datasets.Dataset.from_dict(columns, features=hf_features())}).save_to_disk(out)
    return out


@pytest.mark.slow
def test_trl_grpo_cli_trains_with_an_exported_reward(tiny_model_dir: Path, hf_dataset: Path, tmp_path: Path):
    trl = Path(sys.executable).with_name("trl")
    out = _run([str(trl), "grpo", "--model_name_or_path", str(tiny_model_dir), "--dataset_name", str(hf_dataset),
                "--reward_funcs", "tooln1.rewards.tool_n1_partial_name", "--output_dir", str(tmp_path / "run"),
                "--max_steps", "1", "--num_generations", "2", "--per_device_train_batch_size", "2",
                "--max_completion_length", "8", "--use_cpu", "true", "--report_to", "none", "--save_strategy", "no",
                "--logging_steps", "1", "--disable_tqdm", "true"], tmp_path)  # fmt: skip
    logs = out.stdout + out.stderr
    # TRL logs each reward function under its __name__; our rates come through its log_metric
    assert "rewards/tool_n1_partial_name/mean" in logs and "reason/ok" in logs, logs[-3000:]


@pytest.mark.slow
def test_torchrun_runs_two_ranks_over_gloo(tiny_model_dir: Path, samples_file: Path, tmp_path: Path) -> None:
    """`accelerate launch --cpu --num_processes 2` starts one process; torchrun starts two (README)."""
    run = tmp_path / "run"
    _run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m",
          "tooln1", "train", "grpo", "--config", str(REPO / "configs" / "tiny_ci.yaml"), "--model",
          str(tiny_model_dir), "--data", str(samples_file), "--output_dir", str(run), "--max_steps", "1",
          "--save_strategy", "no", "--per_device_train_batch_size", "2"], tmp_path)  # fmt: skip
    summary = json.loads((run / SUMMARY_FILE).read_text())
    assert summary["world_size"] == 2
    (m,) = read_metrics(run)
    assert m["step"] == 1

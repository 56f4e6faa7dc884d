"""Tests for the verl backend as far as it can run here (no GPU, no verl): the parquet export, the reward entry
point as verl loads it, and the launch script's Hydra keys against verl's documented config.

Example:
    .venv/bin/pytest tests/train/test_train_verl.py -q
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tooln1.prompt import build_messages, canonical_completion
from tooln1.train.verl import export_verl
from tooln1.types import calls_to_json

from train_samples import REPO, make_samples

SCRIPT = REPO / "scripts" / "verl_grpo_tool_n1.sh"

# Hydra keys documented for `python3 -m verl.trainer.main_ppo`: ecosystem.md §2.1 (custom_reward_function.*),
# §2.2 (data.*), §2.3 (the GRPO launch shape), method §4.2 (dynamic batch, remove padding, checkpointing,
# reference offload, validation), all present in verl's flattened reference config
# verl/trainer/config/_generated_ppo_trainer.yaml (volcengine/verl, commit 035682e).
DOCUMENTED_KEYS = {
    "algorithm.adv_estimator", "algorithm.norm_adv_by_std_in_grpo", "algorithm.use_kl_in_reward",
    "data.train_files", "data.val_files", "data.prompt_key", "data.reward_fn_key", "data.train_batch_size",
    "data.max_prompt_length", "data.max_response_length", "data.filter_overlong_prompts", "data.truncation",
    "actor_rollout_ref.model.path", "actor_rollout_ref.model.lora_rank", "actor_rollout_ref.model.use_remove_padding",
    "actor_rollout_ref.model.enable_gradient_checkpointing",
    "actor_rollout_ref.actor.strategy", "actor_rollout_ref.actor.optim.lr",
    "actor_rollout_ref.actor.optim.weight_decay",
    "actor_rollout_ref.actor.grad_clip", "actor_rollout_ref.actor.ppo_mini_batch_size",
    "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu", "actor_rollout_ref.actor.ppo_epochs",
    "actor_rollout_ref.actor.use_dynamic_bsz", "actor_rollout_ref.actor.ppo_max_token_len_per_gpu",
    "actor_rollout_ref.actor.clip_ratio", "actor_rollout_ref.actor.clip_ratio_low",
    "actor_rollout_ref.actor.clip_ratio_high", "actor_rollout_ref.actor.loss_agg_mode",
    "actor_rollout_ref.actor.use_kl_loss", "actor_rollout_ref.actor.kl_loss_coef",
    "actor_rollout_ref.actor.kl_loss_type", "actor_rollout_ref.actor.entropy_coeff",
    "actor_rollout_ref.rollout.name", "actor_rollout_ref.rollout.n", "actor_rollout_ref.rollout.temperature",
    "actor_rollout_ref.rollout.top_p", "actor_rollout_ref.rollout.tensor_model_parallel_size",
    "actor_rollout_ref.rollout.gpu_memory_utilization", "actor_rollout_ref.rollout.val_kwargs.do_sample",
    "actor_rollout_ref.ref.fsdp_config.param_offload",
    "custom_reward_function.path", "custom_reward_function.name",
    "trainer.nnodes", "trainer.n_gpus_per_node", "trainer.total_epochs", "trainer.save_freq", "trainer.test_freq",
    "trainer.val_before_train", "trainer.project_name", "trainer.experiment_name", "trainer.default_local_dir",
    "trainer.logger",
}  # fmt: skip

# The paper's launch (method §4.2), as the script must pass it.
PAPER_SETTINGS = {
    "algorithm.adv_estimator": "grpo", "actor_rollout_ref.rollout.n": "5", "data.train_batch_size": "1024",
    "actor_rollout_ref.actor.optim.lr": "1e-6", "actor_rollout_ref.actor.use_kl_loss": "True",
    "actor_rollout_ref.actor.kl_loss_coef": "0.001", "actor_rollout_ref.actor.kl_loss_type": "low_var_kl",
    "actor_rollout_ref.actor.entropy_coeff": "0", "actor_rollout_ref.rollout.temperature": "0.7",
    "data.max_prompt_length": "4096", "data.max_response_length": "8192", "trainer.total_epochs": "7",
    "actor_rollout_ref.rollout.tensor_model_parallel_size": "2",
    "actor_rollout_ref.rollout.gpu_memory_utilization": "0.6", "actor_rollout_ref.actor.ppo_mini_batch_size": "256",
    "actor_rollout_ref.actor.loss_agg_mode": "token-mean", "actor_rollout_ref.actor.clip_ratio": "0.2",
    "custom_reward_function.name": "compute_score", "trainer.save_freq": "10", "trainer.test_freq": "10",
}  # fmt: skip


def _script_overrides() -> dict[str, str]:
    text = SCRIPT.read_text()
    body = text[text.index("verl.trainer.main_ppo"):]
    return dict(re.findall(r"^\s+([a-z_][\w.]*)=(\S+?)\s*\\?$", body, flags=re.M))


def test_script_passes_only_documented_keys_with_the_paper_values() -> None:
    overrides = _script_overrides()
    assert len(overrides) >= 40
    assert set(overrides) <= DOCUMENTED_KEYS, sorted(set(overrides) - DOCUMENTED_KEYS)
    for key, value in PAPER_SETTINGS.items():
        assert overrides[key] == value, key


def test_export_writes_verl_parquet_rows(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    samples = make_samples()
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.jsonl").write_text("".join(s.to_json() + "\n" for s in samples[:6]))
    (data / "test.jsonl").write_text("".join(s.to_json() + "\n" for s in samples[6:]))
    written = export_verl(data, tmp_path / "verl")
    assert sorted(written) == ["test", "train"]
    table = pq.read_table(written["train"])
    assert table.column_names == ["data_source", "prompt", "ability", "reward_model", "extra_info"]
    assert table.num_rows == 6 and pq.read_metadata(written["test"]).num_rows == 2
    rows = table.to_pylist()
    for i, (row, s) in enumerate(zip(rows, samples, strict=False)):
        assert row["prompt"] == build_messages(s)  # the tools are in each row's own system message
        assert row["reward_model"] == {"style": "rule", "ground_truth": calls_to_json(s.gold)}
        assert row["extra_info"]["split"] == "train" and row["extra_info"]["index"] == i


def _load_like_verl(path: str, name: str, register: bool):
    """What verl's get_custom_reward_fn does with custom_reward_function.path/name: import the file by path as
    "custom_module" (current verl registers it in sys.modules first, older versions do not)."""
    spec = importlib.util.spec_from_file_location("custom_module", path)
    module = importlib.util.module_from_spec(spec)
    if register:
        sys.modules["custom_module"] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop("custom_module", None)
    return getattr(module, name)


def _script_reward_file() -> str:
    """The file the script hands to verl (its REWARD_FILE default, evaluated here)."""
    line = next(x for x in SCRIPT.read_text().splitlines() if x.startswith("REWARD_FILE="))
    code = re.search(r"python3 -c '([^']+)'", line).group(1)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.parametrize("register", [True, False])
def test_reward_entry_point_scores_verl_responses(register: bool) -> None:
    compute_score = _load_like_verl(_script_reward_file(), _script_overrides()["custom_reward_function.name"],
                                    register)  # fmt: skip
    s = make_samples()[7]  # two parallel calls
    gold = calls_to_json(s.gold)
    good = canonical_completion(list(reversed(s.gold)))  # call order is free
    assert compute_score("test", good, gold)["score"] == 1.0
    # old verl decoded prompt + response: the text is cut after the last assistant header
    assert compute_score("test", "<|im_start|>assistant\n<think>x</think>" + good, gold, {})["score"] == 1.0
    no_think = good.split("</think>\n")[1]
    assert compute_score("test", no_think, gold)["score"] == 0.0
    assert compute_score("test", no_think, gold, {"prompt_type": "qwen_wo_reason"})["score"] == 1.0
    out = compute_score("test", "<think>x</think><tool_call>[]</tool_call>", gold)
    assert out["score"] == 0.0 and all(isinstance(v, float) for v in out.values())
    json.dumps(out)  # verl logs the extra keys: numbers only


@pytest.mark.parametrize("missing", ["nothing", "empty"])
def test_export_bad_input(tmp_path: Path, missing: str) -> None:
    from tooln1.errors import UserError

    target = tmp_path / "d"
    if missing == "empty":
        target.mkdir()
    with pytest.raises(UserError):
        export_verl(target, tmp_path / "out")

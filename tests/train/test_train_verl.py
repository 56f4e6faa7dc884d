"""Tests for the verl backend as far as it runs without a GPU: the parquet export, the reward entry point, and,
against the real verl from PyPI (a cached virtualenv, scripts/verl_env.sh), the launch script's composed config
and verl's own reward loading and reward worker scoring each variant chosen through that config.

Example:
    .venv/bin/pytest tests/train/test_train_verl.py -q
"""

from __future__ import annotations

import importlib.util
import json
import os
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
    "reward.custom_reward_function.name": "compute_score", "trainer.save_freq": "10", "trainer.test_freq": "10",
}  # fmt: skip


def _script_overrides() -> dict[str, str]:
    text = SCRIPT.read_text()
    body = text[text.index("verl.trainer.main_ppo"):]
    return dict(re.findall(r"^\s+([a-z_][\w.]*)=(\S+?)\s*\\?$", body, flags=re.M))


def test_script_passes_the_paper_values() -> None:
    overrides = _script_overrides()
    assert len(overrides) >= 40
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
    code = re.search(r" -c '([^']+)'", line).group(1)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.parametrize("register", [True, False])
def test_reward_entry_point_scores_verl_responses(register: bool) -> None:
    compute_score = _load_like_verl(_script_reward_file(), _script_overrides()["reward.custom_reward_function.name"],
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


# --- against the installed verl (scripts/verl_env.sh) -------------------------------------------------------------

PROBE = Path(__file__).with_name("verl_probe.py")


@pytest.fixture(scope="session")
def verl_python() -> str:
    """The cached verl virtualenv's python (built on first use, as `make test` does before the tests)."""
    out = subprocess.run(["bash", str(REPO / "scripts" / "verl_env.sh"), sys.executable], capture_output=True,
                         text=True, timeout=1800)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


def _verl_env(verl_python: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHON": verl_python, "PYTHONPATH": str(REPO / "src"), **extra}
    env.pop("VIRTUAL_ENV", None)
    return env


VARIANTS = ["binary", "binary_no_think", "partial_think", "partial_name"]


def _cfg_job(verl_python: str, tmp_path: Path, model: Path, variant: str) -> Path:
    """`bash scripts/verl_grpo_tool_n1.sh --cfg job`: the config Hydra composes from the installed verl."""
    out = subprocess.run(
        ["bash", str(SCRIPT), "--cfg", "job"], capture_output=True, text=True, timeout=1800,
        env=_verl_env(verl_python, MODEL=str(model), DATA=str(tmp_path), REWARD_VARIANT=variant),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    path = tmp_path / f"cfg_{variant}.yaml"
    path.write_text(out.stdout)
    return path


def _at(cfg: dict, dotted: str):
    for part in dotted.split("."):
        cfg = cfg[part]
    return cfg


@pytest.fixture(scope="module")
def verl_configs(verl_python: str, tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """variant -> the script's composed config with REWARD_VARIANT=variant."""
    tmp = tmp_path_factory.mktemp("verl-cfg")
    return {v: _cfg_job(verl_python, tmp, tiny_model_dir, v) for v in VARIANTS}


@pytest.mark.slow
def test_script_config_composes_in_the_installed_verl(verl_configs: dict) -> None:
    import yaml

    cfg = yaml.safe_load(verl_configs["binary"].read_text())
    for key, value in _script_overrides().items():
        if "$" not in value:
            got, want = str(_at(cfg, key)).lower(), value.strip("'").lower()
            try:  # 1e-6 is composed as 1e-06
                assert float(got) == float(want), key
            except ValueError:  # a list is composed as ['a', 'b'] from the script's [a,b]
                assert got.replace("'", "").replace(" ", "") == want, key
    assert _at(cfg, "reward.custom_reward_function.path") == _script_reward_file()
    assert _at(cfg, "reward.custom_reward_function.reward_kwargs") == {"variant": "binary"}
    # the legacy top-level keys, which verl.trainer.main_ppo never reads, stay unset
    assert cfg["custom_reward_function"]["path"] is None


# Responses to sample 7 (two parallel calls) and the score each variant gives them.
def _verl_cases() -> list[tuple[str, dict[str, float]]]:
    s = make_samples()[7]
    good = canonical_completion(list(reversed(s.gold)))
    no_think = good.split("</think>\n")[1]
    wrong_args = good.replace('"Oslo"', '"Bergen"')
    return [
        (good, {"binary": 1.0, "binary_no_think": 1.0, "partial_think": 1.0, "partial_name": 1.0}),
        ("It is sunny.", {"binary": 0.0, "binary_no_think": 0.0, "partial_think": 0.0, "partial_name": 0.0}),
        (no_think, {"binary": 0.0, "binary_no_think": 1.0, "partial_think": 0.8, "partial_name": 0.8}),
        (wrong_args, {"binary": 0.0, "binary_no_think": 0.0, "partial_think": 0.2, "partial_name": 0.4}),
    ]


@pytest.mark.slow
def test_verl_reward_worker_scores_each_variant_chosen_in_the_config(
    verl_python: str, verl_configs: dict, tmp_path: Path
) -> None:
    samples = make_samples()
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.jsonl").write_text("".join(s.to_json() + "\n" for s in samples))
    parquet = export_verl(data, tmp_path)["train"]
    cases = _verl_cases()
    cases_file = tmp_path / "cases.json"
    cases_file.write_text(json.dumps([{"row": 7, "response": text} for text, _ in cases]))
    configs = [str(verl_configs[v]) for v in VARIANTS]
    out = subprocess.run([verl_python, str(PROBE), str(parquet), str(cases_file), *configs], capture_output=True,
                         text=True, timeout=1800, env=_verl_env(verl_python))  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    results = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert len(results) == len(VARIANTS)
    for variant, result in zip(VARIANTS, results, strict=True):
        assert result["verl"] == "0.9.1"
        assert result["function"] == "tooln1.rewards.compute_score"  # get_custom_reward_fn found ours
        assert result["reward_kwargs"] == {"variant": variant} and result["manager"] == "NaiveRewardManager"
        assert result["scores"] == pytest.approx([want[variant] for _, want in cases]), variant

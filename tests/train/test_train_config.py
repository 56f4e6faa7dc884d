"""Tests for `tooln1.train.config`: YAML recipe + overrides -> TrainConfig, and every shipped recipe is valid.

Example:
    .venv/bin/pytest tests/train/test_train_config.py -q
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from tooln1.errors import UserError
from tooln1.train.config import OUR_KEYS, load_config, parse_overrides, parse_value, trainer_fields

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_values_are_yaml_and_scientific_notation_is_a_float() -> None:
    assert parse_value("1e-6") == 1e-6
    assert parse_value("-2E3") == -2000.0
    assert parse_value("5") == 5 and parse_value("true") is True and parse_value("null") is None
    assert parse_value("no") == "no" and parse_value("on") == "on"  # YAML 1.2: not booleans (save_strategy: no)
    assert parse_value("[q_proj, v_proj]") == ["q_proj", "v_proj"]
    assert parse_value("runs/x") == "runs/x"
    assert parse_overrides(["--a.b", "1", "--c=x y", "--max-steps", "3"]) == [("a.b", 1), ("c", "x y"),
                                                                              ("max_steps", 3)]


def test_overrides_reach_our_keys_mappings_and_bare_trl_fields(tmp_path: Path) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text("data: d\nlora: {r: 4}\ngrpo:\n  beta: 1.0e-3\n  max_steps: 9\n")
    cfg = load_config(recipe, ["--max_steps", "2", "--grpo.learning_rate", "1e-5", "--lora.alpha", "8",
                               "--reward", "partial_name"], mode="grpo")  # fmt: skip
    assert cfg.trainer == {"beta": 1e-3, "max_steps": 2, "learning_rate": 1e-5}
    assert cfg.lora == {"r": 4, "alpha": 8}
    assert cfg.reward == "partial_name" and cfg.data == "d" and cfg.mode == "grpo"
    again = yaml.safe_load(cfg.to_yaml())
    assert again["grpo"] == cfg.trainer and set(again) == set(OUR_KEYS) | {"grpo"}


def test_sft_mode_reads_the_sft_mapping_only(tmp_path: Path) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text("data: d\ngrpo: {beta: 0.5}\nsft: {max_length: 256}\n")
    cfg = load_config(recipe, ["--max_steps", "1"], mode="sft")
    assert cfg.trainer == {"max_length": 256, "max_steps": 1}


@pytest.mark.parametrize(
    ("yaml_text", "overrides", "message"),
    [
        ("data: d\nmodle: x\n", [], r"unknown config key 'modle' \(did you mean model\?\); valid top-level .*"
                                    r"keys: data, model, reward"),
        ("data: d\n", ["--grpo.lerning_rate", "1"], r"'grpo.lerning_rate' \(did you mean learning_rate"),
        ("data: d\n", ["--no_such_thing", "1"], r"unknown config key 'no_such_thing'"),
        ("data: d\nlora: {rank: 4}\n", [], r"'lora.rank'.*valid lora keys: r, alpha, dropout, target_modules, "
                                          r"layers_to_transform"),
        ("data: d\n", ["--reward", "fuzzy"], r"unknown reward variant 'fuzzy'"),
        ("data: d\nprobe: {each: 4}\n", [], r"'probe.each'.*valid probe keys: every, n, data"),
        ("data: d\nprobe: 4\n", [], r"'probe' must be a mapping"),
        ("data: d\n", ["--rollout.refill", "1"], r"'rollout.refill'.*valid rollout keys: refill_rounds"),
        ("data: d\n", ["--rollout.refill_rounds", "-1"], r"refill_rounds must be a whole number >= 0, got -1"),
        ("data: d\n", ["--rollout.refill_rounds", "true"], r"refill_rounds must be a whole number"),
        ("data: d\n", ["--rollout.stop_strings", "</tool_call>"], r"stop_strings must be a list of non-empty"),
        ("data: d\nrollout: {stop_strings: ['']}\n", [], r"stop_strings must be a list of non-empty strings"),
        ("data: d\n", ["--calls_only", "yes please"], r"calls_only must be true or false"),
        ("data: d\ngrpo: {output_dir: x}\n", [], r"top-level 'output_dir'"),
        ("model: bundled\n", [], r"no training data"),
        ("data: d\n", ["--max_steps"], r"needs a value"),
        ("- a\n- b\n", [], r"must be a mapping"),
    ],
)
def test_bad_recipes_are_user_errors(tmp_path: Path, yaml_text: str, overrides: list[str], message: str) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml_text)
    with pytest.raises(UserError, match=message):
        load_config(recipe, overrides, mode="grpo")


def test_missing_recipe_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="config file not found"):
        load_config(tmp_path / "none.yaml", [], mode="grpo")


@pytest.mark.parametrize("name", sorted(p.name for p in CONFIGS.glob("*.yaml")))
def test_every_shipped_recipe_is_valid_for_both_modes(name: str) -> None:
    """Every key of configs/*.yaml is one of ours or a real trl.GRPOConfig / trl.SFTConfig field."""
    for mode in ("grpo", "sft"):
        cfg = load_config(CONFIGS / name, ["--data", "d"], mode=mode)
        assert set(cfg.trainer) <= set(trainer_fields(mode))


def test_paper_recipe_maps_the_paper_hyperparameters() -> None:
    """method §4.2: G=5, T=0.7, beta 1e-3, lr 1e-6 constant, clip 0.2, 1024 prompts x 5 = 5120 completions per
    rollout in 4 mini-batches, completions <= 8192, prompts <= 4096, 7 epochs, vLLM, token-mean loss."""
    cfg = load_config(CONFIGS / "tool_n1_qwen2.5_7b.yaml", [], mode="grpo")
    t = cfg.trainer
    assert (t["num_generations"], t["temperature"], t["beta"], t["learning_rate"], t["epsilon"]) == (5, 0.7, 1e-3,
                                                                                                    1e-6, 0.2)
    assert t["lr_scheduler_type"] == "constant" and t["warmup_steps"] == 0
    assert t["generation_batch_size"] == 1024 * 5
    # 8 processes x per-device batch x grad accumulation = one mini-batch of 256 prompts x 5 completions
    assert 8 * t["per_device_train_batch_size"] * t["gradient_accumulation_steps"] * 4 == t["generation_batch_size"]
    assert (t["max_completion_length"], cfg.max_prompt_tokens, t["num_train_epochs"]) == (8192, 4096, 7)
    assert t["use_vllm"] is True and t["loss_type"] == "dapo" and t["scale_rewards"] == "group"
    assert (t["weight_decay"], t["max_grad_norm"], t["bf16"], t["activation_checkpointing"]) == (0.01, 1.0, True, True)
    assert cfg.reward == "binary" and cfg.model == "Qwen/Qwen2.5-7B-Instruct"


# --- TRL's own forms: a flat GRPOConfig YAML and a TRL-script file (what `trl grpo --config` reads) ---------------

FLAT_GRPO = """\
learning_rate: 1.0e-6
num_generations: 5
temperature: 0.7
beta: 0.001
max_completion_length: 1024
output_dir: runs/flat
"""

TRL_SCRIPT = """\
model_name_or_path: Qwen/Qwen2.5-0.5B-Instruct
dataset_name: runs/data
dataset_train_split: train
dtype: bfloat16
use_peft: true
lora_r: 8
lora_target_modules: [q_proj, v_proj]
reward_funcs: [tooln1.rewards.tool_n1_partial_name]
learning_rate: 1.0e-6
env:
  TOOLN1_TEST_ENV_FROM_CONFIG: "1"
"""


def test_a_flat_grpo_config_yaml_goes_to_the_grpo_mapping(tmp_path: Path) -> None:
    recipe = tmp_path / "flat.yaml"
    recipe.write_text(FLAT_GRPO)
    cfg = load_config(recipe, ["--data", "d", "--num_generations", "4"], mode="grpo")
    assert cfg.trainer == {"learning_rate": 1e-6, "num_generations": 4, "temperature": 0.7, "beta": 0.001,
                           "max_completion_length": 1024}  # fmt: skip
    assert cfg.output_dir == "runs/flat" and cfg.model == "bundled" and cfg.reward == "binary"


def test_a_trl_script_file_is_translated_to_our_keys(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("TOOLN1_TEST_ENV_FROM_CONFIG", raising=False)
    recipe = tmp_path / "trl.yaml"
    recipe.write_text(TRL_SCRIPT)
    cfg = load_config(recipe, [], mode="grpo")
    assert (cfg.model, cfg.data, cfg.dtype, cfg.reward) == ("Qwen/Qwen2.5-0.5B-Instruct", "runs/data", "bfloat16",
                                                            "partial_name")  # fmt: skip
    # trl.ModelConfig's defaults for what the file leaves out (lora_alpha 32, lora_dropout 0.05)
    assert cfg.lora == {"r": 8, "alpha": 32, "dropout": 0.05, "target_modules": ["q_proj", "v_proj"]}
    assert cfg.trainer == {"learning_rate": 1e-6}
    assert os.environ["TOOLN1_TEST_ENV_FROM_CONFIG"] == "1"  # `env:` is exported, as TrlParser does


def test_trl_script_arguments_work_as_overrides_too() -> None:
    cfg = load_config(None, ["--model_name_or_path", "m", "--dataset_name", "d", "--reward_funcs",
                             "tooln1.rewards.tool_n1_binary_no_think"], mode="grpo")  # fmt: skip
    assert (cfg.model, cfg.data, cfg.reward, cfg.lora) == ("m", "d", "binary_no_think", None)


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("dataset_name: d\nload_in_4bit: true\n", r"'load_in_4bit' is not supported by tooln1 train"),
        ("dataset_name: d\ndataset_config: x\n", r"'dataset_config' is not supported"),
        ("dataset_name: d\nlora_r: 8\n", r"lora_r set without use_peft: true"),
        ("dataset_name: d\nreward_funcs: [accuracy_reward]\n", r"reward_funcs must be one of tooln1.rewards.tool_n1_"),
        ("data: d\nlearning_rate: 1.0\ngrpo: {learning_rate: 2.0}\n", r"set both at the top level and under 'grpo:'"),
        ("data: d\nlerning_rate: 1.0\n", r"unknown config key 'lerning_rate' \(did you mean learning_rate"),
        ("data: d\nenv: [a]\n", r"'env' must be a mapping"),
    ],
)
def test_trl_forms_refuse_what_they_cannot_honour(tmp_path: Path, yaml_text: str, message: str) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml_text)
    with pytest.raises(UserError, match=message):
        load_config(recipe, [], mode="grpo")


def test_trl_script_keys_at_trl_defaults_are_accepted(tmp_path: Path) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text("dataset_name: d\nmodel_revision: main\nload_in_4bit: false\ndataset_test_split: test\n")
    assert load_config(recipe, [], mode="grpo").data == "d"


def test_reward_exports_are_ready_instances_of_each_variant() -> None:
    import importlib

    from tooln1.rewards import VARIANTS, TrlReward
    from tooln1.train.config import REWARD_EXPORTS

    assert sorted(REWARD_EXPORTS.values()) == sorted(VARIANTS)
    for dotted, variant in REWARD_EXPORTS.items():
        module, name = dotted.rsplit(".", 1)  # what `trl grpo --reward_funcs` does with a dotted path
        fn = getattr(importlib.import_module(module), name)
        assert isinstance(fn, TrlReward) and fn.variant == variant and fn.__name__ == f"tool_n1_{variant}"


def test_evaluations_of_the_policy_stop_where_its_rollouts_stop(tmp_path: Path) -> None:
    from tooln1.train.run import rollout_stops

    recipe = tmp_path / "r.yaml"
    recipe.write_text('data: d\nstop_tokens: ["\\n\\n"]\nrollout: {stop_strings: ["</tool_call>"]}\n')
    assert rollout_stops(load_config(recipe, [], mode="grpo")) == ("\n\n", "</tool_call>")
    assert rollout_stops(load_config(recipe, ["--rollout", "null"], mode="grpo")) == ("\n\n",)
    recipe.write_text("data: d\n")
    assert rollout_stops(load_config(recipe, [], mode="grpo")) == ()  # the backend's own default applies

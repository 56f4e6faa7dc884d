"""Multi-turn GRPO: the tool chat template passes TRL's own checks, the reply parser, the reward and its metrics.

The end-to-end run on the bundled model (SFT warm-up, then 2 GRPO steps through TRL's environment_factory) is
`test_multi_turn_grpo_two_steps_on_the_bundled_model`.

Run: .venv/bin/pytest tests/train/test_train_multiturn.py
"""

from __future__ import annotations

import json

import pytest

from tooln1.data import mt_envs
from tooln1.data import synth_multiturn as smt
from tooln1.prompt import PLAIN_CHAT_TEMPLATE, render_plain
from tooln1.train import multiturn as mtt
from tooln1.train.callbacks import read_metrics


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    assert tok.chat_template == PLAIN_CHAT_TEMPLATE
    return mtt.prepare_tokenizer(tok)


def test_tool_template_passes_trl_checks_and_matches_the_plain_template(tokenizer):
    from trl.chat_template_utils import is_chat_template_prefix_preserving, supports_tool_calling

    assert supports_tool_calling(tokenizer) and is_chat_template_prefix_preserving(tokenizer)
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"},
                {"role": "assistant", "content": "A"}, {"role": "tool", "content": "T"}]  # fmt: skip
    rendered = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert rendered == tokenizer.bos_token + render_plain(messages)
    calls = [{"type": "function", "function": {"name": "f", "arguments": {"x": 1}}}, {"name": "g", "arguments": {}}]
    text = tokenizer.apply_chat_template([{"role": "assistant", "content": "<think>t</think>", "tool_calls": calls}],
                                         tokenize=False)  # fmt: skip
    assert text.endswith('Assistant: <think>t</think>\n<tool_call>[{"name": "f", "arguments": {"x": 1}}, '
                         '{"name": "g", "arguments": {}}]</tool_call>\n\n')  # fmt: skip


def test_parse_response_uses_the_tool_n1_parser(tokenizer):
    from trl.chat_template_utils import parse_response

    ids = tokenizer('<think>a</think><tool_call>[{"name": "find_item", "arguments": {"title": "x"}}, '
                    '{"name": 3, "arguments": {}}]</tool_call>\n\n', add_special_tokens=False).input_ids  # fmt: skip
    msg = parse_response(tokenizer, ids, prefix=[1], tools=[])
    assert [c["function"]["name"] for c in msg["tool_calls"]] == ["find_item", "3"]
    assert msg["tool_calls"][0]["function"]["arguments"] == {"title": "x"} and msg["content"].startswith("<think>")
    plain = parse_response(tokenizer, tokenizer("no call", add_special_tokens=False).input_ids, prefix=[1])
    assert "tool_calls" not in plain and plain["content"] == "no call"


def test_reward_scores_rollouts_from_environment_state_and_logs_metrics():
    task = smt.generate(1, 0)[0]
    good, idle = mt_envs.make(task.env), mt_envs.make(task.env)
    for env in (good, idle):
        env.reset(task=json.dumps(task.to_dict()))
    methods = mt_envs.tool_methods(good)
    for call in task.gold_calls[0]:
        methods[call["name"]](**call["arguments"])
    with pytest.raises(ValueError):
        methods["find_event"](title="no such event")
    think = {"role": "assistant", "content": "<think>x</think><tool_call>[]</tool_call>"}
    logged: dict[str, float] = {}
    scores = mtt.MultiTurnReward()([[think, {"role": "tool", "content": "r"}, think], [think]], [good, idle],
                                   log_metric=logged.__setitem__)  # fmt: skip
    assert scores == [1.0, 0.0]
    assert logged["reason/ok"] == 0.5 and logged["reason/format:no_tool_call"] == 0.5
    assert logged["multi_turn/replies_per_rollout"] == 1.5 and logged["multi_turn/tool_calls_per_rollout"] == 1.5
    assert logged["multi_turn/tool_errors_per_rollout"] == 0.5 and logged["multi_turn/min_tool_calls"] == 0


def test_multi_turn_data_is_detected_and_rows_carry_environment_and_task(tmp_path, samples_file):
    from tooln1.prompt import PromptTemplate

    tasks = smt.generate(3, 0)
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(t.to_dict()) + "\n" for t in tasks))
    assert mtt.is_multi_turn_data(tmp_path) and not mtt.is_multi_turn_data(samples_file)
    dataset, report = mtt.build_dataset(mtt.read_tasks(tmp_path), PromptTemplate())
    row = dataset[0]
    assert row["environment"] == tasks[0].env and json.loads(row["task"]) == tasks[0].to_dict()
    assert row["prompt"][0]["role"] == "system" and '"name": "find_event"' in row["prompt"][0]["content"]
    assert row["prompt"][1] == tasks[0].turns[0][0] and report["kept"] == 3


DEMO = mtt.__file__.rsplit("/src/", 1)[0] + "/configs/cpu_demo.yaml"


def test_multi_turn_grpo_two_steps_on_the_bundled_model(tmp_path):
    """`tooln1 train grpo` on executable tasks: the bundled model acts in its environments over several steps.

    The base model writes no `<tool_call>` zero-shot, so a short SFT warm-up first teaches the two tasks' gold
    trajectories (7 steps of 6 samples, the same LoRA as configs/cpu_demo.yaml); GRPO then runs 2 steps through
    TRL's environment_factory, one task per step (2 rollouts each: with 4 a step took 75 s of this test's 250),
    sampling at 0.2 (at 0.5, 1 of the 4 rollouts of a step wrote no call in one run: the assertion is on every
    rollout), at most 3 tool rounds per rollout.
    """
    from tooln1.cli import main

    data = tmp_path / "data"
    assert main(["data", "synth", "--multi-turn", "--n", "2", "--seed", "3", "--out", str(data)]) == 0
    tasks = [json.loads(line) for line in (data / "train.jsonl").read_text().splitlines()]
    assert all(len(t["gold_calls"][0]) == 2 for t in tasks)  # 2 calls, then the reply that ends the turn
    sft = tmp_path / "sft"
    assert main(["train", "sft", "--config", DEMO, "--data", str(data / "train_steps.jsonl"), "--output_dir",
                 str(sft), "--max_steps", "7", "--per_device_train_batch_size", "6", "--learning_rate", "1e-3",
                 "--report_to", "[]"]) == 0  # fmt: skip
    run = tmp_path / "grpo"
    assert main(["train", "grpo", "--config", DEMO, "--data", str(data), "--model", str(sft), "--output_dir",
                 str(run), "--max_steps", "2", "--num_generations", "2", "--per_device_train_batch_size", "2",
                 "--gradient_accumulation_steps", "1",
                 "--max_completion_length", "200", "--max_tool_calling_iterations", "3", "--temperature", "0.2",
                 "--save_strategy", "no", "--report_to", "[]"]) == 0  # fmt: skip
    metrics = read_metrics(run)
    assert [m["step"] for m in metrics] == [1, 2]
    for m in metrics:
        assert m["multi_turn/min_tool_calls"] >= 2 and m["tools/call_frequency"] >= 2
        assert m["multi_turn/replies_per_rollout"] >= 2
        assert "multi_turn/tool_errors_per_rollout" in m and "tools/failure_frequency" in m
        assert sum(m[f"reason/{code}"] for code in ("ok", "format:no_tool_call", "format:missing_think",
                                                     "state:mismatch", "response:missing")) == pytest.approx(1.0)
    assert (run / "model.safetensors").is_file()

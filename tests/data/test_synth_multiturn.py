"""Multi-step synthetic tasks: environments, gold trajectories, the held-out split, the outcome reward, the CLI.

Run: .venv/bin/pytest tests/data/test_synth_multiturn.py
"""

from __future__ import annotations

import json

import pytest

from tooln1.cli import main
from tooln1.data import mt_envs
from tooln1.data import synth_multiturn as smt
from tooln1.eval.multiturn import run_episodes
from tooln1.eval.synth_multiturn import SynthEnvironment, load_episodes
from tooln1.prompt import canonical_completion
from tooln1.rewards_multiturn import outcome_score

THINK = "<think>t</think><tool_call>[]</tool_call>"
GOLD = {"gold_state": {"items": [{"id": 4, "title": "a", "done": True}]}, "gold_results": ['{"id": 4}']}
LOG_OK = [{"name": "find_item", "arguments": {"title": "a"}, "result": '{"id": 4}'},
          {"name": "complete_item", "arguments": {"item_id": 4}, "result": '{"id": 4, "done": true}'}]  # fmt: skip


@pytest.mark.parametrize(("state", "log", "replies", "reason"), [
    (GOLD["gold_state"], LOG_OK, [THINK, THINK, THINK], "ok"),
    (GOLD["gold_state"], [], [THINK], "format:no_tool_call"),
    (GOLD["gold_state"], LOG_OK, [THINK, "<tool_call>[]</tool_call>"], "format:missing_think"),
    (GOLD["gold_state"], LOG_OK, [], "format:missing_think"),
    ({"items": [{"id": 4, "title": "a", "done": False}]}, LOG_OK, [THINK], "state:mismatch"),
    (GOLD["gold_state"], LOG_OK[1:], [THINK], "response:missing"),  # right state, but the lookup never happened
    (GOLD["gold_state"], [{"name": "x", "arguments": {}, "error": "no"}, *LOG_OK], [THINK], "ok"),  # errors allowed
])  # fmt: skip
def test_outcome_reward_table(state, log, replies, reason):
    r = outcome_score(GOLD, state, log, replies)
    assert (r.reason, r.score) == (reason, 1.0 if reason == "ok" else 0.0)


def test_environments_log_calls_and_raise_on_bad_requests():
    env = mt_envs.make("shop")
    env.reset(task={"initial_state": {"stock": {"pen": 2}, "prices": {"pen": 1.5}}})
    assert env.add_to_cart(product="pen", quantity=2) == '{"cart": {"pen": 2}}'
    with pytest.raises(ValueError, match="only 2 pen in stock"):
        env.add_to_cart(product="pen", quantity=1)
    assert json.loads(env.checkout()) == {"order_id": 1, "total": 3.0}
    assert env._state()["stock"] == {"pen": 0} and [e.get("error") for e in env._log] == [None, "only 2 pen in stock",
                                                                                         None]  # fmt: skip
    assert sorted(mt_envs.tool_methods(env)) == ["add_to_cart", "check_stock", "checkout"]
    assert [s["name"] for s in mt_envs.tool_schemas("files")] == ["list_dir", "make_dir", "move_file", "read_file"]


def test_tasks_need_two_calls_gold_scores_one_and_test_targets_are_held_out():
    train, test = smt.generate(120, 0, "train"), smt.generate(40, 0, "test")
    assert len({t.id for t in train + test}) == 160
    for task in train + test:
        assert len(task.gold_calls[0]) >= 2
        final, results = smt.run_gold(task.env, task.initial_state, task.gold_calls[0])
        assert (final, results) == (task.gold_state, task.gold_results)
    # The entity acted on (first call's title/product/source) never repeats between the splits.
    def target(t):
        return next(iter(t.gold_calls[0][-1 if t.env == "files" else 0]["arguments"].values()))

    assert not {target(t) for t in train} & {target(t) for t in test}
    assert smt.generate(5, 1, "train") != smt.generate(5, 2, "train")
    assert [t.to_dict() for t in smt.generate(5, 1)] == [t.to_dict() for t in smt.generate(5, 1)]


def test_step_samples_follow_the_gold_trajectory():
    task = smt.generate(1, 0)[0]
    steps = smt.step_samples(task)
    assert [[c.name for c in s.gold] for s in steps] == [["find_event"], ["cancel_event"], []]
    assert steps[2].messages[-1] == {"role": "tool", "content": task.gold_results[1]}
    assert {s.dialog for s in steps} == {task.id}


def test_cli_writes_splits_and_the_eval_loop_scores_gold_replies_one(tmp_path, capsys):
    out = tmp_path / "mt"
    assert main(["data", "synth", "--multi-turn", "--n", "20", "--test-fraction", "0.25", "--out", str(out)]) == 0
    lines = {n: (out / f"{n}.jsonl").read_text().splitlines() for n in ("train", "test", "train_steps")}
    assert (len(lines["train"]), len(lines["test"])) == (20, 5)
    assert "20 train tasks" in capsys.readouterr().out
    episodes = load_episodes(out)
    tasks = {json.loads(line)["id"]: json.loads(line) for line in lines["test"]}

    class Gold:
        name = "gold"

        def generate(self, samples):
            for i, s in enumerate(samples):
                ep, _, pos = s.id.rpartition("#t")
                turn, step = (int(x) for x in pos.split("s"))
                calls = tasks[ep]["gold_calls"][turn]
                yield i, canonical_completion(calls[step : step + 1])

    rows = run_episodes(episodes, Gold, tmp_path / "run", {"benchmark": "t"})
    assert [r["correct"] for r in rows] == [True] * 5
    env = SynthEnvironment(episodes[0].make_env().task)
    refused = env.execute([{"name": "__import__", "arguments": {}}, {"name": "reset", "arguments": {}}])
    assert [r.refused for r in refused] == ["call:unknown_function"] * 2

"""BFCL multi-turn: ground-truth replay agreement, refusal of smuggled code, verdicts, resume, miss_func, step bound.

The replay test answers every step of every `multi_turn_base` entry with BFCL's own ground truth (a scripted
backend) and checks that our loop + BFCL's checker score 100 %, except entries whose ground truth BFCL's checker
rejects when fed directly (there are none in bfcl-eval 2026.3.23: `BFCL_REJECTS_OWN_GROUND_TRUTH` is empty, and
the test recomputes it). The four categories together (800 entries) also replay at 100 %, measured once (2.5
minutes, mostly loading long_context); only `multi_turn_base` (about 5 s) runs here.

Run: .venv/bin/pytest tests/eval/test_bfcl_multiturn.py
"""

from __future__ import annotations

import copy
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tooln1.cli import main
from tooln1.eval import bfcl_multiturn as mt
from tooln1.eval.bfcl import MODEL_NAME, bfcl
from tooln1.eval.multiturn import run_episodes
from tooln1.prompt import canonical_completion
from tooln1.types import Sample

BFCL_REJECTS_OWN_GROUND_TRUTH: tuple[str, ...] = ()


class Scripted:
    """A backend whose reply is `script(sample)`; records every sample it saw."""

    name = "scripted"

    def __init__(self, script):
        self.script, self.seen = script, []

    def generate(self, samples):
        for i, s in enumerate(samples):
            self.seen.append(s)
            yield i, self.script(s)


def _step(sample: Sample) -> int:
    return int(sample.id.rpartition("s")[2])


def test_categories_agree_with_bfcl():
    bfcl()
    from bfcl_eval.constants.category_mapping import MULTI_TURN_CATEGORY

    assert mt.MULTI_TURN_CATEGORIES == tuple(MULTI_TURN_CATEGORY)
    assert mt.validate_categories(["multi_turn"]) == list(MULTI_TURN_CATEGORY)
    with pytest.raises(Exception, match="valid: multi_turn, multi_turn_base"):
        mt.validate_categories(["multi_turn_composite"])


def test_ground_truth_replay_scores_100_percent_on_multi_turn_base(tmp_path):
    episodes = mt.load_episodes(["multi_turn_base"])
    assert len(episodes) == 200
    rows = run_episodes(episodes, lambda: mt.GroundTruthBackend(episodes), tmp_path, {"benchmark": "t"}, window=32)
    # BFCL's checker fed its own ground truth directly (one step per turn), outside our loop.
    rejected = []
    for _, plain, answer in mt._load_category("multi_turn_base"):
        env = mt.BfclEnvironment(plain, "multi_turn_base", answer)
        env.close()
        result = bfcl().eval_runner._evaluate_single_multi_turn_entry(
            mt._Handler(), plain["id"], [[list(t)] for t in answer], copy.deepcopy(answer), copy.deepcopy(plain),
            MODEL_NAME, "multi_turn_base",
        )  # fmt: skip
        env.close()
        if not result["valid"]:
            rejected.append(plain["id"])
    assert tuple(rejected) == BFCL_REJECTS_OWN_GROUND_TRUTH
    failed = [(r["id"], r["error"]) for r in rows if not r["correct"] and r["id"] not in rejected]
    assert failed == []
    assert sum(r["executed_calls"] for r in rows) == sum(len(t) for _, _, a in mt._load_category("multi_turn_base")
                                                         for t in a)  # fmt: skip
    assert all(r["refused_calls"] == 0 for r in rows)


SENTINEL = "tooln1_pwned"
SMUGGLED = [
    {"name": f"__import__('os').system('touch {SENTINEL}')", "arguments": {}},
    {"name": "__import__", "arguments": {"name": "os"}},
    {"name": "eval", "arguments": {"source": f"__import__('os').system('touch {SENTINEL}')"}},
    {"name": "_load_scenario", "arguments": {"scenario": {}}},
    {"name": "cd", "arguments": {f"folder=__import__('os').system('touch {SENTINEL}'),x": "a"}},
    {"name": "cd", "arguments": {"folder": f"x'); __import__('os').system('touch {SENTINEL}'); ('"}},
    {"name": "mkdir", "arguments": {"dir_name": f"\"); __import__('os').system('touch {SENTINEL}') #"}},
    {"name": "echo", "arguments": {"content": f"\\'), __import__('os').system('touch {SENTINEL}'), ('",
                                    "file_name": "ls(x)"}},
]


def test_smuggled_code_is_refused_and_nothing_outside_the_environment_changes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = sorted(os.listdir(tmp_path))
    episodes = mt.load_episodes(["multi_turn_base"], limit=1)

    def script(s):
        return canonical_completion(SMUGGLED) if _step(s) == 0 else "<tool_call>[]</tool_call>"

    backend = Scripted(script)
    rows = run_episodes(episodes, lambda: backend, tmp_path / "run", {"benchmark": "t"})
    assert not (tmp_path / SENTINEL).exists() and sorted(os.listdir(tmp_path)) == sorted(before + ["run"])
    first = rows[0]["turns"][0][0]
    assert first["refused"] == ["call:unknown_function"] * 4 + ["call:bad_argument_name"]
    # What did run: three string literals, never code (BFCL prefixes method names even inside strings).
    assert [e.split("(")[0] for e in first["executed"]] == ["cd", "mkdir", "echo"]
    assert all(r.startswith("Error during execution: call refused before execution (call:")
               for r in first["results"][:5])  # fmt: skip
    assert not rows[0]["correct"] and rows[0]["error"].startswith("multi_turn:") and rows[0]["tool_errors"] >= 5
    # The environment itself holds the strings as plain names: the file system gained a folder named by the text.
    env = episodes[0].make_env()
    env.execute([{"name": "cd", "arguments": {"folder": "document"}}])
    assert not (tmp_path / SENTINEL).exists()
    env.close()


def test_verdicts_come_from_bfcl_checker_and_a_rerun_resumes(tmp_path):
    episodes = mt.load_episodes(["multi_turn_base"], limit=2)
    wrong = canonical_completion([{"name": "pwd", "arguments": {}}])
    backend = Scripted(lambda s: wrong if _step(s) == 0 else "no call here")
    rows = run_episodes(episodes, lambda: backend, tmp_path, {"benchmark": "t"})
    assert [r["id"] for r in rows] == ["multi_turn_base_0", "multi_turn_base_1"]
    assert [r["correct"] for r in rows] == [False, False]
    assert rows[0]["error"].startswith("multi_turn:instance_state_mismatch: Model instance for GorillaFileSystem")
    assert rows[0]["turns"][0][0]["executed"] == ["pwd()"] and rows[0]["turns"][0][1]["parse"] == "format:no_tool_call"
    assert rows[0]["steps"] == 2 * len(episodes[0].turns) and rows[0]["tool_errors"] == 0
    # The tool result reached the next prompt.
    second = backend.seen[len(episodes)]
    assert second.messages[-1] == {"role": "tool", "content": rows[second.id.startswith("multi_turn_base_1") * 1]
                                   ["turns"][0][0]["results"][0]}  # fmt: skip
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["multi_turn_base_0", "multi_turn_base_1"]

    def no_backend():
        raise AssertionError("a finished run must not build a backend")

    assert run_episodes(episodes, no_backend, tmp_path, {"benchmark": "t"}) == rows


def test_miss_func_adds_the_held_back_function_at_bfcl_turn(tmp_path):
    episodes = mt.load_episodes(["multi_turn_miss_func"], limit=1)
    assert episodes[0].added_tools.keys() == {3}
    backend = Scripted(lambda s: "<tool_call>[]</tool_call>")
    run_episodes(episodes, lambda: backend, tmp_path, {"benchmark": "t"})
    names = [[t["name"] for t in s.tools] for s in backend.seen]
    assert [("sort" in n) for n in names] == [False, False, False, True, True]
    assert backend.seen[3].messages[-1] == {"role": "user", "content": episodes[0].added_tools_message}


def test_step_bound_force_terminates(tmp_path):
    episodes = mt.load_episodes(["multi_turn_base"], limit=1)
    backend = Scripted(lambda s: canonical_completion([{"name": "pwd", "arguments": {}}]))
    rows = run_episodes(episodes, lambda: backend, tmp_path, {"benchmark": "t"}, max_steps=2)
    assert not rows[0]["correct"] and rows[0]["error"].startswith("force_terminated")
    assert rows[0]["steps"] == 3 and len(backend.seen) == 3


class _Server(BaseHTTPRequestHandler):
    """An OpenAI-compatible /v1/completions that calls `pwd` after a user turn and ends the turn after a tool."""

    prompts: list[str] = []

    def do_POST(self) -> None:
        prompt = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["prompt"]
        type(self).prompts.append(prompt)
        last = prompt.rstrip().rsplit("\n\n", 2)[-2]
        text = "<tool_call>[]</tool_call>" if last.startswith("Tool:") else canonical_completion(
            [{"name": "pwd", "arguments": {}}])  # fmt: skip
        body = json.dumps({"choices": [{"text": text}]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_cli_multi_turn_openai_backend(tmp_path, capsys):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        out = tmp_path / "run"
        argv = ["eval", "bfcl", "--categories", "multi_turn_base", "--limit", "1", "--backend", "openai",
                "--base-url", f"http://127.0.0.1:{server.server_address[1]}/v1", "--model", "scripted",
                "--tokenizer", "none-such-tokenizer", "--out", str(out)]  # fmt: skip
        assert main(argv) == 0
    finally:
        server.shutdown()
    row = json.loads((out / "results.jsonl").read_text())
    assert row["id"] == "multi_turn_base_0" and row["steps"] == 8 and row["executed_calls"] == 4
    assert "Tool: {\"current_working_directory\": \"/workspace\"}\n\nAssistant:" in _Server.prompts[1]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["categories"] == {"multi_turn_base": {"n": 1, "correct": 0, "accuracy": 0.0}}
    assert summary["config"]["max_steps"] == 20 and summary["multi_turn_counts"]["executed_calls"] == 4
    assert "| MT base | MT miss func |" in capsys.readouterr().out

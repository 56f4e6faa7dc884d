"""The `openai` backend against real servers on 127.0.0.1: `tooln1 serve`, and a stdlib server that misbehaves.

`tooln1 serve --model <tiny model> --port 0` runs as a subprocess, as a user would start it; the same greedy
completions must come back through `/v1/completions` as from the `hf` backend, because both see our rendered
prompt. The misbehaving server answers a few requests properly, then garbage (or errors), e.g.

    200 {"choices": [{"text": "<think>s</think><tool_call>[]</tool_call>"}]}   then   200 "<html>oops"

Run: .venv/bin/pytest tests/eval/test_openai_backend.py
"""

from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tooln1.cli import main
from tooln1.types import Sample, ToolCall

WEATHER = {"name": "get_weather", "description": "Weather now", "parameters": {"city": {"type": "str"}}}
SAMPLES = [Sample(f"s{i}", "synth", [WEATHER], [{"role": "user", "content": f"Weather in city {i}?"}],
                  [ToolCall("get_weather", {"city": f"city {i}"})]) for i in range(4)]  # fmt: skip
STUB_TEXT = "<think>s</think><tool_call>[]</tool_call>"


@pytest.fixture(scope="module")
def served(tiny_model_dir):
    """`tooln1 serve` on a free port; yields its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tooln1", "serve", "--model", str(tiny_model_dir), "--port", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True).start()
    try:
        while True:
            line = lines.get(timeout=120)
            if m := re.search(r"ready: (http://127\.0\.0\.1:\d+/v1)", line):
                break
        yield m.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def data_dir(make_data_dir):
    return make_data_dir(SAMPLES)


class Misbehaving(BaseHTTPRequestHandler):
    """Answers `good` requests properly, then misbehaves as `mode` says; counts requests per path."""

    good = 0
    mode = "not-json"
    seen: list[str] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append(self.path)
        if self.path != "/v1/completions":
            return self._send(404, b'{"error": "no such route"}')
        if len(self.seen) <= self.good:
            return self._send(200, json.dumps({"choices": [{"text": STUB_TEXT}]}).encode())
        body = {"not-json": b"<html>oops", "no-choices": b'{"result": "ok"}', "http-500": b"overloaded"}[self.mode]
        self._send(500 if self.mode == "http-500" else 200, body)

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture
def misbehaving():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Misbehaving)
    Misbehaving.seen = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def _completions(out: Path) -> dict[str, str]:
    return {r["id"]: r["completion"] for r in map(json.loads, (out / "results.jsonl").read_text().splitlines())}


def _heldout(data_dir: Path, out: Path, *extra: str) -> int:
    return main(["eval", "heldout", "--data", str(data_dir), "--max-new-tokens", "8", "--out", str(out), *extra])


def test_completions_api_gives_the_hf_backend_text(served, data_dir, tmp_path, tiny_model_dir):
    model = str(tiny_model_dir)
    assert _heldout(data_dir, tmp_path / "api", "--backend", "openai", "--base-url", served, "--model", model) == 0
    assert _heldout(data_dir, tmp_path / "hf", "--model", model, "--dtype", "float32", "--batch-size", "1") == 0
    api, hf = _completions(tmp_path / "api"), _completions(tmp_path / "hf")
    assert set(api) == {s.id for s in SAMPLES}
    assert api == hf


def test_chat_api_returns_a_completion_per_item(served, data_dir, tmp_path, tiny_model_dir):
    argv = ["--backend", "openai", "--openai-api", "chat", "--base-url", served, "--model", str(tiny_model_dir),
            "--concurrency", "2"]  # fmt: skip
    assert _heldout(data_dir, tmp_path / "chat", *argv) == 0
    texts = _completions(tmp_path / "chat")
    assert set(texts) == {s.id for s in SAMPLES} and all(isinstance(t, str) and t for t in texts.values())


def _error_line(err: str) -> str:
    """The one error line on stderr (the progress bar shares stderr), asserting there is no traceback."""
    lines = [line for line in err.splitlines() if line.startswith("tooln1:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("mode", ["not-json", "no-choices", "http-500"])
def test_garbage_answers_are_retried_then_a_clear_error_keeps_finished_results(
    mode, misbehaving, served, data_dir, tmp_path, capsys
):
    Misbehaving.good, Misbehaving.mode = 2, mode
    out = tmp_path / "run"
    # "stub" is no loadable tokenizer: prompts use the plain-text template, which keeps this test fast.
    argv = ["--backend", "openai", "--base-url", misbehaving, "--model", "stub", "--concurrency", "1",
            "--retries", "1"]  # fmt: skip
    assert _heldout(data_dir, out, *argv) == 2
    line = _error_line(capsys.readouterr().err)
    assert line.startswith(f"tooln1: error: {misbehaving}/completions: no usable answer after 2 tries (last: ")
    assert line.endswith("finished results are kept, rerun to resume")
    assert len(Misbehaving.seen) == 4  # 2 good answers, then 1 try + 1 retry
    done = _completions(out)
    assert list(done.values()) == [STUB_TEXT, STUB_TEXT]
    if mode == "not-json":  # the rerun resumes against a working server: only the 2 unfinished items go there
        argv[argv.index(misbehaving)] = served
        assert _heldout(data_dir, out, *argv) == 0
        final = _completions(out)
        assert len(final) == 4 and {k: final[k] for k in done} == done


def test_server_down_and_wrong_route(misbehaving, data_dir, tmp_path, capsys):
    import socket

    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    argv = ["--backend", "openai", "--model", "stub", "--retries", "0", "--concurrency", "1"]
    assert _heldout(data_dir, tmp_path / "a", *argv, "--base-url", down) == 2
    assert f"{down}/completions: no usable answer after 1 tries" in _error_line(capsys.readouterr().err)
    Misbehaving.good = 100
    assert _heldout(data_dir, tmp_path / "b", *argv, "--retries", "3", "--openai-api", "chat",
                    "--base-url", misbehaving) == 2  # fmt: skip
    line = _error_line(capsys.readouterr().err)
    assert line == f'tooln1: error: {misbehaving}/chat/completions: HTTP 404: {{"error": "no such route"}}'
    assert Misbehaving.seen == ["/v1/chat/completions"]  # not retried: a wrong route will not heal

"""`tooln1 serve` with a real (tiny, random) model: exact greedy parity with local `model.generate`, stop strings,
seeds, a 50-request load test, and the `python -m tooln1 serve` command itself.

Example:
    $ .venv/bin/pytest -q tests/test_serve_model.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest
import torch

from tooln1.model import load_model_and_tokenizer
from tooln1.prompt import render_prompt
from tooln1.serve.app import ServeConfig, create_app
from tooln1.serve.chat import parse_reply, request_sample, turn_stops
from tooln1.serve.protocol import ChatCompletionRequest
from tooln1.serve.server import background, listen

TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather now",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]  # fmt: skip
HISTORY = [
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "18 C"},
    {"role": "user", "content": "And in Rome?"},
]  # fmt: skip


@pytest.fixture(scope="module")
def loaded(tiny_model_dir):
    return load_model_and_tokenizer(str(tiny_model_dir))


@pytest.fixture(scope="module")
def server(loaded):
    model, tokenizer = loaded
    with background(create_app(model, tokenizer, ServeConfig(model_name="tiny", max_tokens_cap=64))) as url:
        yield openai.OpenAI(base_url=url, api_key="none", max_retries=0, timeout=60)


def local_greedy(loaded, prompt: str, max_new_tokens: int) -> str:
    """What an in-process evaluation does: tokenizer(prompt) -> greedy generate -> decode the new tokens."""
    model, tokenizer = loaded
    enc = tokenizer(prompt, return_tensors="pt")
    with torch.inference_mode():
        out = model.generate(**enc, do_sample=False, max_new_tokens=max_new_tokens)
    return tokenizer.decode(out[0, enc["input_ids"].shape[1] :], skip_special_tokens=True)


def test_raw_completions_equal_local_greedy_generation(server, loaded):
    body = {"messages": HISTORY, "tools": TOOLS}
    prompt = render_prompt(request_sample(ChatCompletionRequest.model_validate(body))[0], loaded[1])
    r = server.completions.create(model="tiny", prompt=prompt, max_tokens=12, temperature=0)
    assert r.choices[0].text == local_greedy(loaded, prompt, 12)
    assert r.usage.prompt_tokens == len(loaded[1](prompt)["input_ids"])
    assert r.usage.completion_tokens == 12 and r.choices[0].finish_reason == "length"


def test_chat_with_tools_end_to_end_through_the_model(server, loaded):
    r = server.chat.completions.create(model="tiny", messages=HISTORY, tools=TOOLS, max_tokens=10, temperature=0)
    prompt = render_prompt(request_sample(ChatCompletionRequest.model_validate(
        {"messages": HISTORY, "tools": TOOLS}))[0], loaded[1])  # fmt: skip
    text = local_greedy(loaded, prompt, 10)
    end = min([text.find(s) for s in turn_stops(loaded[1]) if s in text], default=len(text))  # end of the turn
    expected = parse_reply(text[:end], tools=True)
    message = r.choices[0].message
    assert (message.content, getattr(message, "reasoning_content", None)) == (expected.content, expected.reasoning)
    assert r.choices[0].finish_reason in ("length", "stop", "tool_calls")
    assert r.usage.prompt_tokens == len(loaded[1](prompt)["input_ids"])


def test_streamed_text_equals_the_whole_text(server):
    args = {"model": "tiny", "prompt": "User: hi\n\nAssistant:", "max_tokens": 16, "temperature": 0}
    whole = server.completions.create(**args).choices[0].text
    streamed = list(server.completions.create(**args, stream=True))
    assert "".join(c.choices[0].text for c in streamed) == whole
    chat = {"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 16, "temperature": 0}
    content = server.chat.completions.create(**chat).choices[0].message.content
    chunks = list(server.chat.completions.create(**chat, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == content


def test_stop_string_cuts_the_text_like_openai(server):
    args = {"model": "tiny", "prompt": "User: hi\n\nAssistant:", "max_tokens": 16, "temperature": 0}
    full = server.completions.create(**args).choices[0].text
    stop = full[len(full) // 2 : len(full) // 2 + 3]
    cut = server.completions.create(**args, stop=[stop]).choices[0]
    assert (cut.text, cut.finish_reason) == (full[: full.find(stop)], "stop")
    streamed = list(server.completions.create(**args, stop=stop, stream=True))
    assert "".join(c.choices[0].text for c in streamed) == cut.text


def test_sampling_n_and_seed(server):
    args = {"model": "tiny", "prompt": "User: hi\n\nAssistant:", "max_tokens": 8, "temperature": 1.0, "n": 3}
    a = server.completions.create(**args, seed=123)
    b = server.completions.create(**args, seed=123)
    assert [c.text for c in a.choices] == [c.text for c in b.choices]
    assert len({c.text for c in a.choices}) > 1  # three independent samples of a random model
    assert a.usage.completion_tokens == 24
    greedy = server.completions.create(**{**args, "temperature": 0})
    assert len({c.text for c in greedy.choices}) == 1 and len(greedy.choices) == 3


@pytest.mark.slow
def test_fifty_concurrent_requests_get_answers_or_clean_refusals(loaded):
    model, tokenizer = loaded
    config = ServeConfig(model_name="tiny", max_concurrency=1, max_queue=16, queue_timeout=2.0)
    with background(create_app(model, tokenizer, config)) as url:
        c = openai.OpenAI(base_url=url, api_key="none", max_retries=0, timeout=60)

        def ask(i: int):
            messages = [{"role": "user", "content": f"q{i}"}]
            try:
                return c.chat.completions.create(
                    model="tiny", messages=messages, tools=TOOLS if i % 2 else None, max_tokens=4, temperature=0
                )
            except openai.APIStatusError as e:
                return e

        t0 = time.monotonic()
        with ThreadPoolExecutor(50) as pool:
            results = list(pool.map(ask, range(50)))
        elapsed = time.monotonic() - t0
        assert c.models.list().data[0].id == "tiny"
        assert c.completions.create(model="tiny", prompt="x", max_tokens=2).choices[0].text is not None
    answered = [r for r in results if not isinstance(r, openai.APIStatusError)]
    refused = [r for r in results if isinstance(r, openai.APIStatusError)]
    assert answered and elapsed < 30
    for r in answered:
        assert r.choices[0].message.role == "assistant" and r.usage.completion_tokens <= 4
    for e in refused:
        assert e.status_code in (429, 503) and e.body["code"] in ("queue_full", "queue_timeout")


@pytest.mark.slow
def test_the_serve_command_starts_and_reports_ready(tiny_model_dir, tmp_path):
    env = {**os.environ, "TOOLN1_API_KEY": "k"}
    cmd = [sys.executable, "-m", "tooln1", "serve", "--model", str(tiny_model_dir), "--port", "0"]
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + 120
            while "ready: " not in log.read_text() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
            url = log.read_text().split("ready: ")[1].split()[0]
            req = urllib.request.Request(url + "/models", headers={"Authorization": "Bearer k"})
            with urllib.request.urlopen(req, timeout=30) as r:
                assert json.loads(r.read())["data"][0]["id"] == str(tiny_model_dir)
        finally:
            proc.terminate()
            proc.wait(30)
    assert url.startswith("http://127.0.0.1:")


def test_a_taken_port_is_a_one_line_error():
    taken = listen("127.0.0.1", 0)
    taken.listen()
    port = taken.getsockname()[1]
    r = subprocess.run([sys.executable, "-m", "tooln1", "serve", "--port", str(port)], capture_output=True, text=True,
                       timeout=60)  # fmt: skip
    taken.close()
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1].startswith(f"tooln1: error: cannot listen on 127.0.0.1:{port}")
    assert "Traceback" not in r.stderr

"""`tooln1 serve` over real HTTP with the official `openai` client, on a scripted fake model (no torch needed).

Example:
    $ .venv/bin/pytest -q tests/test_serve_app.py

The fake `Script` generator answers with fixed texts, streams them in small pieces, and records what the server
asked of it; the real-model path is covered by test_serve_model.py.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest

from tooln1.serve.app import ServeConfig, create_app
from tooln1.serve.generation import Generation, SamplingParams
from tooln1.serve.server import background

KEY = "sk-test"
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather now",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]  # fmt: skip
CALL_TEXT = ('<think>The user wants Paris.</think><tool_call>[{"name": "get_weather", "arguments": {"city": "Paris"}}]'
             "</tool_call>")  # fmt: skip
USER = [{"role": "user", "content": "Weather in Paris?"}]


class Script:
    """A fake generator: choice i answers texts[i % len(texts)]; can block on a gate or fail."""

    def __init__(self, *texts: str, gate: threading.Event | None = None, fail: bool = False):
        self.texts, self.gate, self.fail = texts, gate, fail
        self.calls: list[tuple[str, SamplingParams]] = []
        self.started = threading.Event()

    def count_tokens(self, prompt: str) -> int:
        return len(prompt.split())

    def generate(self, prompt, params, on_text=None, cancel=None) -> Generation:
        self.calls.append((prompt, params))
        self.started.set()
        if self.gate is not None:
            self.gate.wait(10)
        if self.fail:
            raise RuntimeError("CUDA out of memory (simulated)")
        texts = [self.texts[i % len(self.texts)] for i in range(params.n)]
        for i, text in enumerate(texts):
            for k in range(0, len(text), 7):
                if on_text is not None:
                    on_text(i, text[k : k + 7])
        tokens = sum(len(t.split()) for t in texts)
        return Generation(texts, ["stop"] * params.n, self.count_tokens(prompt), tokens)


def serve(script: Script, **config):
    return background(create_app(None, None, ServeConfig(model_name="fake", api_key=KEY, **config), script))


def client(url: str, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=url, api_key=key, max_retries=0, timeout=30)


def post(url: str, body: bytes, key: str = KEY, content_type: str = "application/json") -> tuple[int, dict]:
    """A raw POST (the openai client cannot send malformed JSON); returns (status, JSON body)."""
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Authorization": f"Bearer {key}", "Content-Type": content_type})  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_tool_call_with_every_sampling_setting():
    script = Script(CALL_TEXT)
    with serve(script) as url:
        r = client(url).chat.completions.create(
            model="anything", messages=USER, tools=TOOLS, temperature=0.3, top_p=0.9, max_tokens=50, stop=["\n\n"],
            seed=7,
        )  # fmt: skip
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert choice.message.reasoning_content == "The user wants Paris."
    (call,) = choice.message.tool_calls
    assert call.id.startswith("call_") and call.type == "function"
    assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather", {"city": "Paris"})
    assert r.model == "fake" and r.object == "chat.completion"
    prompt, params = script.calls[0]
    assert '"name": "get_weather"' in prompt and prompt.endswith("User: Weather in Paris?\n\nAssistant:")
    # the plain-text template's next-turn markers are added to the client's stop strings (chat only)
    stop = ("\n\n", "\n\nUser:", "\n\nTool:")
    assert params == SamplingParams(max_tokens=50, temperature=0.3, top_p=0.9, n=1, stop=stop, seed=7)
    assert r.usage.prompt_tokens == len(prompt.split())
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_plain_answer_without_tools_and_default_max_tokens():
    script = Script("<think>greet back</think>Hello there!")
    with serve(script, max_tokens_cap=64) as url:
        r = client(url).chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert r.choices[0].message.content == "Hello there!"
    assert r.choices[0].message.reasoning_content == "greet back"
    assert r.choices[0].message.tool_calls is None and r.choices[0].finish_reason == "stop"
    assert script.calls[0][0] == "User: hi\n\nAssistant:"
    assert script.calls[0][1].max_tokens == 64 and script.calls[0][1].temperature == 1.0


def test_n_choices():
    with serve(Script(CALL_TEXT, "<think>none fits</think><tool_call>[]</tool_call>")) as url:
        r = client(url).chat.completions.create(model="m", messages=USER, tools=TOOLS, n=3, temperature=1.0)
    assert [c.index for c in r.choices] == [0, 1, 2]
    assert [c.finish_reason for c in r.choices] == ["tool_calls", "stop", "tool_calls"]
    assert r.choices[1].message.tool_calls is None and r.choices[1].message.content == ""


def test_streaming_tool_call_reasoning_first_calls_last():
    with serve(Script(CALL_TEXT)) as url:
        usage = {"include_usage": True}
        chunks = list(client(url).chat.completions.create(
            model="m", messages=USER, tools=TOOLS, stream=True, n=2, stream_options=usage))  # fmt: skip
    for index in (0, 1):
        deltas = [c.choices[0] for c in chunks if c.choices and c.choices[0].index == index]
        assert deltas[0].delta.role == "assistant"
        reasoning = "".join(getattr(d.delta, "reasoning_content", None) or "" for d in deltas)
        assert reasoning == "The user wants Paris."
        assert "".join(d.delta.content or "" for d in deltas) == ""
        (calls,) = [d.delta.tool_calls for d in deltas if d.delta.tool_calls]
        assert calls[0].function.name == "get_weather" and json.loads(calls[0].function.arguments) == {"city": "Paris"}
        assert [d.finish_reason for d in deltas if d.finish_reason] == ["tool_calls"]
        assert deltas[-1].finish_reason == "tool_calls"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0


def test_streaming_plain_answer_and_raw_completions():
    script = Script("<think>x</think> It is sunny. ")
    with serve(script) as url:
        c = client(url)
        chunks = list(c.chat.completions.create(model="m", messages=USER, stream=True))
        text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
        raw = c.completions.create(model="m", prompt="User: hi\n\nAssistant:", max_tokens=5)
        streamed = list(c.completions.create(model="m", prompt="p", max_tokens=5, stream=True))
    assert text == "It is sunny."
    assert script.calls[1][1].stop == ()  # the raw endpoint adds no stop strings
    assert raw.choices[0].text == "<think>x</think> It is sunny. "  # raw endpoint: no parsing
    assert "".join(s.choices[0].text for s in streamed) == raw.choices[0].text
    assert streamed[-1].choices[0].finish_reason == "stop"


def test_wrong_or_missing_api_key_is_401():
    with serve(Script("x")) as url:
        with pytest.raises(openai.AuthenticationError) as e:
            client(url, key="wrong").models.list()
        assert e.value.status_code == 401 and e.value.body["code"] == "invalid_api_key"
        status, body = post(url + "/chat/completions", b"{", key="")
        assert status == 401  # the key is checked before the body is read
        assert client(url).models.list().data[0].id == "fake"


@pytest.mark.parametrize(
    "path, body, content_type, status, fragment",
    [
        ("/chat/completions", b'{"model": "m", "messages": [', "application/json", 400, "not valid JSON"),
        ("/chat/completions", b"\xff\xfe", "application/json", 400, "not valid JSON"),
        ("/chat/completions", b"[1, 2]", "application/json", 400, "JSON object"),
        ("/chat/completions", b'{"messages": "hi"}', "text/plain", 400, "JSON object"),
        ("/chat/completions", b'{"messages": [{"role": "user", "content": 5}]}', "application/json", 400,
         "messages.0.content"),
        ("/completions", b'{"prompt": "x", "max_tokens": 100000}', "application/json", 400, "capped"),
        ("/completions", b'{"prompt": "' + b"x" * 5000 + b'"}', "application/json", 413, "over 4096 bytes"),
        ("/nowhere", b"{}", "application/json", 404, "Invalid URL (POST /v1/nowhere): this server answers GET"),
        ("/responses", b"{}", "application/json", 404, "Responses API is not served: use chat completions"),
    ],
)  # fmt: skip
def test_malformed_requests_get_openai_error_bodies(path, body, content_type, status, fragment):
    with serve(Script("ok"), max_body_bytes=4096) as url:
        got_status, got = post(url + path, body, content_type=content_type)
        assert client(url).models.list().data  # still serving
    assert got_status == status
    assert set(got["error"]) == {"message", "type", "param", "code"}
    assert fragment in got["error"]["message"] and "Traceback" not in got["error"]["message"]


def test_chunked_body_over_the_cap_is_413():
    """A chunked upload declares no length: the guard counts the bytes as they arrive."""
    with serve(Script("ok"), max_body_bytes=4096) as url:
        host, port = url.split("//")[1].split("/")[0].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        chunks = iter([b'{"prompt": "', b"x" * 3000, b"x" * 3000, b'"}'])
        conn.request("POST", "/v1/completions", body=chunks, encode_chunked=True,
                     headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})  # fmt: skip
        r = conn.getresponse()
        status, body = r.status, json.loads(r.read())
        conn.close()
        assert status == 413 and "over 4096 bytes" in body["error"]["message"]
        assert client(url).models.list().data


def test_model_failure_is_500_and_the_server_keeps_serving():
    script = Script("fine")
    with serve(script) as url:
        c = client(url)
        script.fail = True
        with pytest.raises(openai.InternalServerError, match="CUDA out of memory"):
            c.chat.completions.create(model="m", messages=USER)
        with pytest.raises(openai.APIError, match="CUDA out of memory"):  # mid-stream: reported in-band
            list(c.chat.completions.create(model="m", messages=USER, stream=True))
        script.fail = False
        assert c.chat.completions.create(model="m", messages=USER).choices[0].message.content == "fine"


def test_busy_server_queues_then_answers_429_and_503_and_stays_responsive():
    gate = threading.Event()
    script = Script("done", gate=gate)
    with serve(script, max_concurrency=1, max_queue=1, queue_timeout=0.5) as url:
        c = client(url)
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(c.chat.completions.create, model="m", messages=USER)
            assert script.started.wait(10)
            queued = pool.submit(c.chat.completions.create, model="m", messages=USER)
            time.sleep(0.2)  # let it take the one queue place
            t0 = time.monotonic()
            assert c.models.list().data  # the event loop answers while a generation runs
            with pytest.raises(openai.RateLimitError) as full:
                c.chat.completions.create(model="m", messages=USER)
            assert time.monotonic() - t0 < 0.5 and full.value.body["code"] == "queue_full"
            with pytest.raises(openai.APIStatusError) as timed_out:
                queued.result(10)
            gate.set()
            assert first.result(10).choices[0].message.content == "done"
    assert timed_out.value.status_code == 503 and timed_out.value.body["code"] == "queue_timeout"
    assert len(script.calls) == 1

"""`tooln1 serve` under client faults: each is a 4xx with the OpenAI error body, and the server keeps answering.

Real sockets on the scripted fake model of test_serve_app.py (no torch): lone surrogates, 64-bit seeds (also
streamed), deep tool-call arguments, strict request types, context overflow, a client that hangs up on a
non-streamed request (its slot must free within a second), lower-case bearer schemes, bodies that never finish,
and the one log line per request.
"""

from __future__ import annotations

import json
import logging
import socket
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from test_serve_app import KEY, TOOLS, USER, Script, post, serve

CHAT, COMPLETIONS = "/chat/completions", "/completions"
DEEP = "[" * 5000 + "]" * 5000


def _chat(**fields: object) -> dict:
    return {"model": "m", "messages": USER, **fields}


def _history_call(arguments: str) -> dict:
    return _chat(messages=[*USER, {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": arguments}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"}], tools=TOOLS)  # fmt: skip


# (path, body, expected status, expected code or message fragment)
FAULTS = [
    (CHAT, _chat(messages=[{"role": "user", "content": "hi \ud800"}]), 400, "lone surrogate"),
    (CHAT, _chat(messages=[{"role": "user", "content": [{"type": "text", "text": "\udfff"}]}]), 400, "lone surrogate"),
    (CHAT, _chat(tools=[{"type": "function", "function": {"name": "f\udc00"}}]), 400, "lone surrogate"),
    (COMPLETIONS, {"model": "m", "prompt": "x\ud83d"}, 400, "lone surrogate"),
    (COMPLETIONS, {"model": "m", "prompt": "x", "stop": ["\ude00"]}, 400, "lone surrogate"),
    (CHAT, _chat(seed=2**64), 400, "seed"),
    (CHAT, _chat(seed=-(2**63) - 1), 400, "seed"),
    (CHAT, _chat(seed=2**64, stream=True), 400, "seed"),
    (COMPLETIONS, {"model": "m", "prompt": "x", "seed": 10**30, "stream": True}, 400, "seed"),
    (CHAT, _history_call(DEEP), 400, "json:too_deep"),
    (CHAT, _history_call('{"a": ' + "9" * 5000 + "}"), 400, "json:number_too_large"),
    (CHAT, _history_call('"\\ud800"'), 400, "text:lone_surrogate"),
    (
        CHAT,
        _chat(
            tools=[{"type": "function", "function": {"name": "f", "parameters": json.loads("[" * 150 + "]" * 150)}}]
        ),
        400,
        "nested deeper",
    ),  # fmt: skip
    (CHAT, _chat(max_tokens="10"), 400, "max_tokens"),
    (CHAT, _chat(max_tokens=True), 400, "max_tokens"),
    (CHAT, _chat(max_tokens=10.0), 400, "max_tokens"),
    (CHAT, _chat(n="2"), 400, "n"),
    (CHAT, _chat(n=True), 400, "n"),
    (CHAT, _chat(stream="yes"), 400, "stream"),
    (CHAT, _chat(stream=1), 400, "stream"),
    (CHAT, _chat(temperature="0.5"), 400, "temperature"),
    (CHAT, _chat(top_p=[1]), 400, "top_p"),
    (CHAT, _chat(seed="7"), 400, "seed"),
    (CHAT, _chat(stream=True, stream_options={"include_usage": "yes"}), 400, "include_usage"),
    (CHAT, _chat(messages=[{"role": "user", "content": 5}]), 400, "content"),
    (CHAT, _chat(max_completion_tokens="5"), 400, "max_completion_tokens"),
    (COMPLETIONS, {"model": "m", "prompt": ["a", "b"]}, 400, "prompt"),
    (COMPLETIONS, {"model": "m", "prompt": 5}, 400, "prompt"),
    (COMPLETIONS, {"model": "m", "prompt": "x", "max_tokens": "1"}, 400, "max_tokens"),
    (COMPLETIONS, {"model": 5, "prompt": "x"}, 400, "model"),
    (CHAT, _chat(messages=[{"role": "user", "content": "word " * 200}]), 400, "context_length_exceeded"),
    (COMPLETIONS, {"model": "m", "prompt": "word " * 200}, 400, "context_length_exceeded"),
    (COMPLETIONS, {"model": "m", "prompt": "word " * 60, "max_tokens": 50}, 400, "context_length_exceeded"),
]
RAW_FAULTS = [  # bodies json.dumps cannot write: nesting past the recursion limit in the body itself
    (CHAT, b'{"model": "m", "messages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400),
    (COMPLETIONS, b'{"model": "m", "prompt": "x", "extra": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5000 + b"}", 400),
]


class Sized(Script):
    """A Script with a context length (100 tokens: words), as HFGenerator reads one from the model config."""

    context_length = 100


@pytest.fixture(scope="module")
def url():
    with serve(Sized("ok"), max_model_len=None) as base:
        yield base


@pytest.mark.parametrize(("path", "body", "status", "fragment"), FAULTS, ids=range(len(FAULTS)))
def test_each_client_fault_is_a_4xx_with_the_openai_error_body(url, path, body, status, fragment) -> None:
    got, reply = post(url + path, json.dumps(body).encode())  # ensure_ascii: surrogates travel as \\u escapes
    assert got == status, reply
    err = reply["error"]
    assert set(err) == {"message", "type", "param", "code"} and err["type"] == "invalid_request_error"
    assert fragment in f"{err['message']} {err['param']} {err['code']}", err


@pytest.mark.parametrize(("path", "body", "status"), RAW_FAULTS, ids=range(len(RAW_FAULTS)))
def test_bodies_nested_past_the_recursion_limit_are_400(url, path, body, status) -> None:
    got, reply = post(url + path, body)
    assert got == status and reply["error"]["type"] == "invalid_request_error", reply


def test_the_server_answers_after_every_fault_and_max_tokens_defaults_to_the_room_left(url) -> None:
    with urllib.request.urlopen(urllib.request.Request(url + "/models", headers={"Authorization": f"Bearer {KEY}"}),
                                timeout=10) as r:  # fmt: skip
        assert json.loads(r.read())["data"][0]["id"] == "fake"
    status, reply = post(url + COMPLETIONS, json.dumps({"model": "m", "prompt": "word " * 60}).encode())
    assert status == 200 and reply["choices"][0]["text"] == "ok"


def test_max_model_len_bounds_the_context() -> None:
    script = Script("ok")
    with serve(script, max_model_len=20) as base:
        status, reply = post(base + COMPLETIONS, json.dumps({"model": "m", "prompt": "word " * 15}).encode())
        assert status == 200 and script.calls[-1][1].max_tokens == 5  # the room left, not the 2,048 cap
        status, reply = post(base + COMPLETIONS, json.dumps({"model": "m", "prompt": "word " * 20}).encode())
        assert status == 400 and reply["error"]["code"] == "context_length_exceeded"


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_the_bearer_scheme_is_case_insensitive(scheme: str) -> None:
    with serve(Script("ok")) as base:
        req = urllib.request.Request(base + "/models", headers={"Authorization": f"{scheme} {KEY}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200
        req = urllib.request.Request(base + "/models", headers={"Authorization": f"{scheme} wrong"})
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        assert e.value.code == 401


class Slow(Script):
    """The first call generates one token per 10 ms until cancelled (or 60 s): a long non-streamed generation;
    later calls answer at once."""

    def generate(self, prompt, params, on_text=None, cancel=None):
        if hasattr(self, "cancelled"):
            return super().generate(prompt, params)
        self.calls.append((prompt, params))
        self.started.set()
        for _ in range(6000):
            if cancel is not None and cancel.is_set():
                break
            time.sleep(0.01)
        self.cancelled = time.monotonic()
        return super().generate(prompt, params)


def _raw_request(base: str, path: str, body: bytes) -> socket.socket:
    u = urllib.parse.urlsplit(base)
    sock = socket.create_connection((u.hostname, u.port), timeout=10)
    head = (f"POST {u.path}{path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()  # fmt: skip
    sock.sendall(head + body)
    return sock


@pytest.mark.parametrize("path", [CHAT, COMPLETIONS])
def test_a_non_streamed_request_whose_client_hangs_up_frees_its_slot_within_a_second(path: str) -> None:
    script = Slow("done")
    body = _chat() if path == CHAT else {"model": "m", "prompt": "x"}
    with serve(script, queue_timeout=30) as base:
        sock = _raw_request(base, path, json.dumps(body).encode())
        assert script.started.wait(10)
        hung_up = time.monotonic()
        sock.close()  # a real socket that hangs up mid-generation
        deadline = hung_up + 5
        while not hasattr(script, "cancelled") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert script.cancelled - hung_up < 1.0
        script.started.clear()
        status, reply = post(base + COMPLETIONS, json.dumps({"model": "m", "prompt": "x", "max_tokens": 1}).encode())
        assert status == 200 and time.monotonic() - hung_up < 5  # the only slot was free again


def test_connections_that_never_finish_their_body_are_closed(caplog) -> None:
    with serve(Script("ok"), body_timeout=1.0) as base:
        socks = []
        for _ in range(50):
            u = urllib.parse.urlsplit(base)
            s = socket.create_connection((u.hostname, u.port), timeout=10)
            s.sendall(
                (
                    f"POST {u.path}/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
                    'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model"'
                ).encode()
            )
            socks.append(s)  # fmt: skip
        time.sleep(1.5)
        replies = []
        for s in socks:
            s.settimeout(5)
            data = b""
            while chunk := s.recv(65536):  # the server answers 408 and closes: recv ends with b""
                data += chunk
            replies.append(data)
            s.close()
        assert all(r.startswith(b"HTTP/1.1 408 ") for r in replies), replies[0][:200]
        assert b'"code":null' in replies[0] or b'"type":"invalid_request_error"' in replies[0]
        status, _ = post(base + COMPLETIONS, json.dumps({"model": "m", "prompt": "x"}).encode())
        assert status == 200


def test_one_log_line_per_request_with_status_latency_and_tokens(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="tooln1.serve.app"), serve(Script("one two three")) as base:
        post(base + COMPLETIONS, json.dumps({"model": "m", "prompt": "a b"}).encode())
        post(base + COMPLETIONS, json.dumps({"model": "m", "prompt": "a", "n": "2"}).encode())
        streamed = urllib.request.Request(base + CHAT, method="POST", headers={"Authorization": f"Bearer {KEY}",
                                          "Content-Type": "application/json"},
                                          data=json.dumps(_chat(stream=True, stream_options={"include_usage": True}))
                                          .encode())  # fmt: skip
        with urllib.request.urlopen(streamed, timeout=30) as r:
            assert r.read().endswith(b"data: [DONE]\n\n")
    lines = [r.getMessage() for r in caplog.records if r.name == "tooln1.serve.app" and " ms " in r.getMessage()]
    assert len(lines) == 3, lines
    assert lines[0].startswith("POST /v1/completions 200 ") and lines[0].endswith(
        "prompt_tokens=2 completion_tokens=3"
    )
    assert lines[1].startswith("POST /v1/completions 400 ")
    assert lines[1].endswith("prompt_tokens=- completion_tokens=-")
    assert lines[2].startswith("POST /v1/chat/completions 200 ") and "completion_tokens=3" in lines[2]
    assert not any("Traceback" in r.getMessage() for r in caplog.records)

"""`tooln1 serve` driven by the real agent frameworks from PyPI: LangChain (`langchain-openai`) and openai-agents, on
the tiny random model (its text is noise: only the server's constrained decoding can make a reply valid).

Example:
    .venv/bin/pytest -q tests/test_serve_clients.py

Each test uses a framework the way docs/use_it_from.md tells a user to, and checks both what the framework got
back (tool calls, parsed objects, a tool the agent ran) and what it sent (a recording middleware keeps the request
bodies), so a framework that changes what it sends shows up here. Tracing is off: nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any, Literal

import openai
import pytest
from agents import (
    Agent,
    ModelSettings,
    OpenAIChatCompletionsModel,
    Runner,
    ToolCallOutputItem,
    function_tool,
    set_default_openai_api,
    set_default_openai_client,
    set_tracing_disabled,
)
# Private module of openai-agents, pinned to 0.24.0 in pyproject.toml: read only to put the SDK's process-wide
# defaults back after a test (it has setters but no public getters).
from agents.models import _openai_shared
from langchain_core.messages import AIMessage
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

from tooln1.model import load_model_and_tokenizer
from tooln1.serve.app import ServeConfig, create_app
from tooln1.serve.server import background

ASK = "What is the weather in Paris?"


class Weather(BaseModel):
    """Weather forecast for a city."""

    city: Literal["Paris", "Oslo"]
    unit: Literal["celsius", "fahrenheit"]


class Time(BaseModel):
    """The time now in a city."""

    city: Literal["Paris", "Oslo"]


class Answer(BaseModel):
    """The answer to the user."""

    city: Literal["Paris", "Oslo"]
    sunny: bool


class Recorder:
    """ASGI middleware: keeps [path, JSON body] of every request, i.e. what the client library really sent."""

    def __init__(self, app: Any, sent: list[list]):
        self.app, self.sent = app, sent

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        body = bytearray()
        entry: list = [scope["path"], {}]  # logged on arrival: a 404 is answered without reading the body
        self.sent.append(entry)

        async def recorded() -> dict:
            message = await receive()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    entry[1] = json.loads(body) if body else {}
            return message

        await self.app(scope, recorded, send)


@pytest.fixture(scope="module")
def served(tiny_model_dir) -> Iterator[tuple[str, list[list]]]:
    """The base URL of a real `tooln1 serve` app on the tiny model, and the request log."""
    model, tokenizer = load_model_and_tokenizer(str(tiny_model_dir))
    app = create_app(model, tokenizer, ServeConfig(model_name="tooln1", max_tokens_cap=160))
    sent: list[list] = []  # [path, JSON body] per request
    app.add_middleware(Recorder, sent=sent)
    with background(app) as url:
        yield url, sent


@pytest.fixture(autouse=True)
def _no_tracing(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2", "LANGCHAIN_TRACING"):
        monkeypatch.delenv(name, raising=False)
    set_tracing_disabled(True)  # left disabled after the test: the safe side (no upload)


def _last(sent: list[list]) -> dict:
    path, body = sent[-1]
    assert path == "/v1/chat/completions"
    return body


def _llm(url: str) -> ChatOpenAI:
    # greedy, and a seed: the same reply from the tiny model on every run
    return ChatOpenAI(base_url=url, api_key="none", model="tooln1", temperature=0.0, seed=0, max_tokens=120,
                      max_retries=0, timeout=120)  # fmt: skip


def _check_calls(message: AIMessage, tools: dict[str, type[BaseModel]]) -> None:
    for call in message.tool_calls:
        assert call["name"] in tools and isinstance(call["args"], dict)
        tools[call["name"]].model_validate(call["args"])


# --- LangChain ----------------------------------------------------------------------------------------------------


def test_langchain_tool_choice_any_gives_tool_calls(served) -> None:
    url, sent = served
    message = _llm(url).bind_tools([Weather, Time], tool_choice="any").invoke(ASK)
    assert isinstance(message, AIMessage) and len(message.tool_calls) >= 1
    _check_calls(message, {"Weather": Weather, "Time": Time})
    assert _last(sent)["tool_choice"] == "required"  # what "any" means on the wire


def test_langchain_named_tool_choice_gives_one_call_to_it(served) -> None:
    url, sent = served
    message = _llm(url).bind_tools([Weather, Time], tool_choice="Weather").invoke(ASK)
    (call,) = message.tool_calls
    assert call["name"] == "Weather" and isinstance(call["args"], dict)
    Weather.model_validate(call["args"])
    assert _last(sent)["tool_choice"] == {"type": "function", "function": {"name": "Weather"}}


def test_langchain_streamed_named_tool_call(served) -> None:
    url, _ = served
    chunks = list(_llm(url).bind_tools([Weather, Time], tool_choice="Weather").stream(ASK))
    message = chunks[0]
    for chunk in chunks[1:]:
        message = message + chunk
    (call,) = message.tool_calls
    assert call["name"] == "Weather" and message.response_metadata["finish_reason"] == "tool_calls"
    Weather.model_validate(call["args"])


@pytest.mark.parametrize(
    ("method", "wire"),
    [("function_calling", lambda b: b["tool_choice"] == {"type": "function", "function": {"name": "Answer"}}),
     ("json_schema", lambda b: b["response_format"]["type"] == "json_schema" and "tools" not in b)],
)  # fmt: skip
def test_langchain_structured_output(served, method: str, wire: Callable[[dict], bool]) -> None:
    url, sent = served
    out = _llm(url).with_structured_output(Answer, method=method).invoke(ASK)
    assert isinstance(out, Answer)  # LangChain parsed and validated it
    Answer.model_validate(out.model_dump())
    assert wire(_last(sent))


# --- openai-agents ------------------------------------------------------------------------------------------------


def _weather_tool(ran: list[str]):
    @function_tool
    def get_weather(city: Literal["Paris", "Oslo"]) -> str:
        """Weather forecast for a city."""
        ran.append(city)
        return f"sunny in {city}"

    return get_weather


def _settings() -> ModelSettings:
    # one call per forced reply: a random model may not close an unbounded call list before max_tokens
    return ModelSettings(tool_choice="required", parallel_tool_calls=False, temperature=0.0, max_tokens=60)


async def _run(agent: Agent, streamed: bool) -> Any:
    if not streamed:
        return await Runner.run(agent, ASK, max_turns=3)
    result = Runner.run_streamed(agent, ASK, max_turns=3)
    async for _ in result.stream_events():
        pass
    return result


def _check_tool_ran(result: Any, ran: list[str]) -> None:
    assert ran and set(ran) <= {"Paris", "Oslo"}  # the SDK called our function with valid arguments
    outputs = [item.output for item in result.new_items if isinstance(item, ToolCallOutputItem)]
    assert outputs and all(o in ("sunny in Paris", "sunny in Oslo") for o in outputs)


@pytest.mark.parametrize("streamed", [False, True], ids=["run", "run_streamed"])
def test_openai_agents_runner_invokes_the_tool(served, streamed: bool) -> None:
    url, sent = served
    ran: list[str] = []
    client = openai.AsyncOpenAI(base_url=url, api_key="none", max_retries=0, timeout=120)
    agent = Agent(name="weather", instructions="Answer with the tools.", tools=[_weather_tool(ran)],
                  model=OpenAIChatCompletionsModel(model="tooln1", openai_client=client),
                  model_settings=_settings())  # fmt: skip
    start = len(sent)
    result = asyncio.run(_run(agent, streamed))
    _check_tool_ran(result, ran)
    first = sent[start][1]
    assert first["tool_choice"] == "required" and first["parallel_tool_calls"] is False
    assert first["stream"] is True if streamed else not first.get("stream")
    # after the tool ran, the SDK resets tool_choice (reset_tool_choice) and the model answers freely
    assert len(sent) - start >= 2 and sent[start + 1][1].get("tool_choice") != "required"
    assert isinstance(result.final_output, str)


def test_openai_agents_structured_output(served) -> None:
    url, sent = served
    client = openai.AsyncOpenAI(base_url=url, api_key="none", max_retries=0, timeout=120)
    agent = Agent(name="answer", instructions="Answer.", output_type=Answer,
                  model=OpenAIChatCompletionsModel(model="tooln1", openai_client=client),
                  model_settings=ModelSettings(temperature=0.0, max_tokens=60))  # fmt: skip
    result = asyncio.run(Runner.run(agent, ASK, max_turns=1))
    assert isinstance(result.final_output, Answer)
    assert _last(sent)["response_format"]["type"] == "json_schema"


@pytest.fixture
def agents_defaults() -> Iterator[None]:
    """Put back the SDK's process-wide default client and API after a test sets them."""
    client, responses = _openai_shared.get_default_openai_client(), _openai_shared.get_use_responses_by_default()
    yield
    _openai_shared.set_default_openai_client(client)
    set_default_openai_api("responses" if responses else "chat_completions")


def test_openai_agents_default_responses_api_gets_a_clear_404_and_the_switch_works(served, agents_defaults) -> None:
    """The set-up in docs/use_it_from.md, line by line: without the switch a clear 404, with it a working agent."""
    url, sent = served
    ran: list[str] = []
    set_default_openai_client(openai.AsyncOpenAI(base_url=url, api_key="none", max_retries=0, timeout=120))
    set_default_openai_api("responses")  # the SDK's default, in case another test changed it
    agent = Agent(name="weather", instructions="Answer with the tools.", tools=[_weather_tool(ran)], model="tooln1",
                  model_settings=_settings())  # fmt: skip

    async def without_then_with_the_switch() -> tuple[openai.NotFoundError, Any]:
        # one event loop for both runs: the default client's connections belong to the loop that opened them
        with pytest.raises(openai.NotFoundError) as e:
            await Runner.run(agent, ASK, max_turns=3)
        assert sent[-1][0] == "/v1/responses" and not ran
        set_default_openai_api("chat_completions")  # the switch
        return e.value, await Runner.run(agent, ASK, max_turns=3)

    not_found, result = asyncio.run(without_then_with_the_switch())
    error = not_found.body
    assert set(error) == {"message", "type", "param", "code"} and error["type"] == "invalid_request_error"
    assert "Invalid URL (POST /v1/responses)" in error["message"]
    assert 'set_default_openai_api("chat_completions")' in error["message"]
    _check_tool_ran(result, ran)
    assert sent[-1][0] == "/v1/chat/completions"

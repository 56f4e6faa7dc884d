"""`tool_choice` required / named, `response_format`, `parallel_tool_calls` and unknown-tool calls in `tooln1 serve`:
the grammar each request gets, the call policy on free replies, and real constrained decoding through the official
`openai` client, on the tiny random model (any text it writes is noise, so only the constraint can make it valid)
and on the bundled model.

Example:
    .venv/bin/pytest -q tests/test_serve_constrain.py
"""

from __future__ import annotations

import json

import openai
import pytest
from pydantic import ValidationError

from tooln1.model import load_model_and_tokenizer
from tooln1.serve.app import ServeConfig, create_app
from tooln1.serve.chat import Reply, openai_call
from tooln1.serve.constrain import apply_call_policy, request_grammar
from tooln1.serve.protocol import ApiError, ChatCompletionRequest
from tooln1.serve.server import background

WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather forecast for a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12},
                                                           "unit": {"enum": ["celsius", "fahrenheit"]}},
                          "required": ["city", "unit"], "additionalProperties": False}}}  # fmt: skip
TIME = {"type": "function", "function": {"name": "get_time", "description": "The time now",
        "parameters": {"type": "object", "properties": {}, "additionalProperties": False}}}  # fmt: skip
TOOLS = [WEATHER, TIME]
ANSWER = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12},
          "sunny": {"type": "boolean"}}, "required": ["city", "sunny"], "additionalProperties": False}  # fmt: skip
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]
NAMED = {"type": "function", "function": {"name": "get_weather"}}


def _req(**fields) -> ChatCompletionRequest:
    return ChatCompletionRequest.model_validate({"messages": ASK, **fields})


@pytest.mark.parametrize(
    ("fields", "contains", "absent"),
    [
        ({"tools": TOOLS, "tool_choice": NAMED}, ['{"const": "get_weather"}', '"maxItems": 1'], ["get_time"]),
        ({"tools": TOOLS, "tool_choice": "required"}, ["get_weather", "get_time", '"minItems": 1'], ["maxItems"]),
        ({"tools": TOOLS, "tool_choice": "required", "parallel_tool_calls": False}, ['"maxItems": 1'], []),
        ({"response_format": {"type": "json_object"}}, ['start: content', '"type": "object"'], ["<tool_call>"]),
        ({"response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": ANSWER}}},
         ['"sunny"'], ["<tool_call>"]),
        ({"tools": TOOLS, "response_format": {"type": "json_object"}}, ["start: call_block | content"], []),
    ],
)
def test_each_setting_gets_its_grammar(fields: dict, contains: list[str], absent: list[str]) -> None:
    grammar = request_grammar(_req(**fields))
    for text in contains:
        assert text in grammar, text
    for text in absent:
        assert text not in grammar, text


@pytest.mark.parametrize(
    "fields", [{}, {"tools": TOOLS}, {"tools": TOOLS, "tool_choice": "auto"}, {"tools": TOOLS, "tool_choice": "none"},
               {"response_format": {"type": "text"}}],
)  # fmt: skip
def test_free_decoding_when_nothing_is_asked(fields: dict) -> None:
    assert request_grammar(_req(**fields)) is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"tool_choice": "required"}, "tool_choice 'required' needs tools"),
        ({"tools": [TIME], "tool_choice": NAMED}, "'get_weather', which is not among the tools"),
        ({"tools": TOOLS, "tool_choice": {"type": "function", "function": {}}}, "name"),
        ({"response_format": {"type": "xml"}}, "response_format"),
    ],
)
def test_constraints_that_cannot_be_met_are_refused(fields: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _req(**fields)


def test_a_json_schema_format_without_a_schema_is_400() -> None:
    with pytest.raises(ApiError, match="needs json_schema.schema") as e:
        request_grammar(_req(response_format={"type": "json_schema", "json_schema": {"name": "a"}}))
    assert e.value.status == 400


def _reply(*calls: tuple[str, dict], content: str | None = None) -> Reply:
    return Reply(content, None, [openai_call({"name": n, "arguments": a}) for n, a in calls])


def test_a_call_to_a_tool_not_offered_comes_back_as_content() -> None:
    out = apply_call_policy(_reply(("get_time", {}), ("rm_rf", {"path": "/"})), _req(tools=TOOLS))
    assert [c["function"]["name"] for c in out.calls] == ["get_time"]
    assert out.content == '<tool_call>[{"name": "rm_rf", "arguments": {"path": "/"}}]</tool_call>'


def test_parallel_tool_calls_false_keeps_the_first_call_only() -> None:
    two = _reply(("get_weather", {"city": "Oslo"}), ("get_weather", {"city": "Lima"}))
    out = apply_call_policy(two, _req(tools=TOOLS, parallel_tool_calls=False))
    assert [json.loads(c["function"]["arguments"]) for c in out.calls] == [{"city": "Oslo"}]
    assert apply_call_policy(two, _req(tools=TOOLS)).calls == two.calls


# --- real constrained decoding through the official openai client ------------------------------------------------


def _client(model_dir: str, dtype: str | None = None):
    import torch

    model, tokenizer = load_model_and_tokenizer(model_dir, **({"dtype": getattr(torch, dtype)} if dtype else {}))
    return background(create_app(model, tokenizer, ServeConfig(model_name="m", max_tokens_cap=160)))


@pytest.fixture(scope="module")
def tiny_client(tiny_model_dir):
    with _client(str(tiny_model_dir)) as url:
        yield openai.OpenAI(base_url=url, api_key="none", max_retries=0, timeout=1200)


def _check_weather_call(call) -> None:
    assert call.type == "function" and call.function.name == "get_weather"
    args = json.loads(call.function.arguments)
    assert isinstance(args, dict) and set(args) == {"city", "unit"} and args["unit"] in ("celsius", "fahrenheit")


def _check_answer(content: str) -> None:
    data = json.loads(content)
    assert set(data) == {"city", "sunny"} and isinstance(data["city"], str) and isinstance(data["sunny"], bool)


def _ask(client, stream: bool = False, **fields):
    if not stream:
        return client.chat.completions.create(model="m", messages=ASK, max_tokens=150, seed=0, **fields)
    return client.chat.completions.create(model="m", messages=ASK, max_tokens=150, seed=0, stream=True, **fields)


def test_named_tool_choice_gives_exactly_one_call_to_it(tiny_client) -> None:
    out = _ask(tiny_client, tools=TOOLS, tool_choice=NAMED, temperature=0.0)
    (choice,) = out.choices
    assert choice.finish_reason == "tool_calls" and len(choice.message.tool_calls) == 1
    _check_weather_call(choice.message.tool_calls[0])


def test_required_tool_choice_gives_calls_to_offered_tools(tiny_client) -> None:
    # one call per reply: a random model may not close an unbounded list before max_tokens
    out = _ask(tiny_client, tools=TOOLS, tool_choice="required", parallel_tool_calls=False, temperature=1.0, n=2)
    for choice in out.choices:
        (call,) = choice.message.tool_calls
        assert call.function.name in ("get_weather", "get_time")
        assert isinstance(json.loads(call.function.arguments), dict)


def test_response_format_json_schema_gives_valid_content(tiny_client) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "answer", "schema": ANSWER, "strict": True}}
    out = _ask(tiny_client, response_format=fmt, temperature=1.0)
    _check_answer(out.choices[0].message.content)


def test_streamed_named_tool_choice(tiny_client) -> None:
    chunks = list(_ask(tiny_client, stream=True, tools=TOOLS, tool_choice=NAMED, temperature=1.0))
    calls = [c for ch in chunks for d in [ch.choices[0].delta] if d.tool_calls for c in d.tool_calls]
    assert len(calls) == 1 and chunks[-1].choices[0].finish_reason == "tool_calls"
    _check_weather_call(calls[0])


def test_a_client_error_for_an_unknown_named_tool(tiny_client) -> None:
    with pytest.raises(openai.BadRequestError, match="not among the tools"):
        _ask(tiny_client, tools=[TIME], tool_choice=NAMED)


@pytest.mark.slow
def test_the_bundled_model_honours_tool_choice_and_response_format() -> None:
    """The acceptance check: the real 270M model (bf16), greedy, through the official client."""
    from tooln1.model import prepare_bundled

    with _client(str(prepare_bundled()), dtype="bfloat16") as url:
        client = openai.OpenAI(base_url=url, api_key="none", max_retries=0, timeout=1200)
        named = _ask(client, tools=TOOLS, tool_choice=NAMED, temperature=0.0)
        (call,) = named.choices[0].message.tool_calls
        _check_weather_call(call)
        required = _ask(client, tools=TOOLS, tool_choice="required", temperature=0.0)
        assert required.choices[0].message.tool_calls
        fmt = {"type": "json_schema", "json_schema": {"name": "answer", "schema": ANSWER}}
        _check_answer(_ask(client, response_format=fmt, temperature=0.0).choices[0].message.content)

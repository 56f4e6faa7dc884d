"""Request conversion, reply parsing and reply streaming of `tooln1 serve`, without a model or a server.

Example:
    $ .venv/bin/pytest -q tests/test_serve_chat.py
"""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tooln1.prompt import DEFAULT_PREAMBLE, PLAIN_CHAT_TEMPLATE, render_plain, render_tools
from tooln1.serve.chat import PLAIN_TURN_STOPS, ReplyStream, chat_prompt, parse_reply, request_sample, turn_stops
from tooln1.serve.protocol import ApiError, ChatCompletionRequest, CompletionRequest

WEATHER = {"name": "get_weather", "description": "Weather now", "parameters": {"type": "object",
           "properties": {"city": {"type": "string"}}}}  # fmt: skip


def chat(**body):
    return ChatCompletionRequest.model_validate(body)


def history_request(**extra):
    return chat(
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Weather in "}, {"type": "text", "text": "Paris?"}]},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function",
                 "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "18 C"},
        ],
        **extra,
    )  # fmt: skip


def test_request_sample_keeps_tools_as_given_and_decodes_history_calls():
    req = history_request(tools=[{"type": "function", "function": {**WEATHER, "strict": True}}])
    sample, system = request_sample(req)
    assert system == ["Be brief."]
    assert sample.tools == [WEATHER]  # "strict" is an API switch, not schema: dropped; key order kept
    assert list(sample.tools[0]) == ["name", "description", "parameters"]
    assert sample.messages == [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]},
        {"role": "tool", "content": "18 C"},
    ]


def test_tool_prompt_puts_client_system_before_our_preamble_and_renders_history():
    prompt = chat_prompt(history_request(tools=[{"type": "function", "function": WEATHER}]), tokenizer=None)
    assert prompt.startswith("Be brief.\n\n" + DEFAULT_PREAMBLE)
    assert render_tools([WEATHER]) in prompt
    assert prompt.endswith(
        'User: Weather in Paris?\n\nAssistant: <tool_call>[{"name": "get_weather", "arguments": {"city": "Paris"}}]'
        "</tool_call>\n\nTool: 18 C\n\nAssistant:"
    )


def test_plain_prompt_without_tools_or_with_tool_choice_none():
    expected = "Be brief.\n\nUser: hi\n\nAssistant:"
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    assert chat_prompt(chat(messages=msgs), tokenizer=None) == expected
    tools = [{"type": "function", "function": WEATHER}]
    assert chat_prompt(chat(messages=msgs, tools=tools, tool_choice="none"), tokenizer=None) == expected


def test_turn_stops_only_for_the_plain_template():
    assert turn_stops(None) == turn_stops(SimpleNamespace(chat_template=PLAIN_CHAT_TEMPLATE)) == PLAIN_TURN_STOPS
    turns = render_plain([{"role": r, "content": r} for r in ("assistant", "user", "tool")], False)
    assert all(s in turns for s in PLAIN_TURN_STOPS)  # the markers really follow an assistant turn
    assert turn_stops(SimpleNamespace(chat_template="{{ messages }}<end_of_turn>")) == ()


def test_bad_history_arguments_are_a_400_naming_the_field():
    req = chat(messages=[{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{oops"}}]}])
    with pytest.raises(ApiError) as e:
        chat_prompt(req, tokenizer=None)
    assert (e.value.status, e.value.param) == (400, "messages.0.tool_calls.0.function.arguments")


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"messages": []}, "at least 1"),
        ({"messages": [{"role": "user"}]}, "needs content"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "role"),
        ({"messages": [{"role": "user", "content": "x"}], "tool_choice": "required"}, "tool_choice"),
        ({"messages": [{"role": "user", "content": "x"}], "logprobs": True}, "logprobs"),
        ({"messages": [{"role": "user", "content": "x"}], "stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function", "function": {}}]}, "name"),
        ({"messages": [{"role": "user", "content": "x"}], "n": 0}, "n"),
    ],
)
def test_invalid_chat_requests_are_refused(body, fragment):
    with pytest.raises(ValidationError, match=fragment):
        ChatCompletionRequest.model_validate(body)


def test_completion_request_refuses_echo_and_prefers_max_completion_tokens_in_chat():
    with pytest.raises(ValidationError, match="echo"):
        CompletionRequest.model_validate({"prompt": "x", "echo": True})
    req = chat(messages=[{"role": "user", "content": "x"}], max_tokens=10, max_completion_tokens=7)
    assert req.token_limit == 7


def test_reply_with_calls_becomes_tool_calls_and_reasoning():
    text = ('<think> The user wants Paris. </think>\n<tool_call>[{"name": "get_weather", "arguments": '
            '{"city": "Paris"}}, {"name": "get_time", "arguments": {}}]</tool_call>')  # fmt: skip
    reply = parse_reply(text, tools=True)
    assert reply.reasoning == "The user wants Paris."
    assert reply.content is None
    assert [c["function"]["name"] for c in reply.calls] == ["get_weather", "get_time"]
    assert json.loads(reply.calls[0]["function"]["arguments"]) == {"city": "Paris"}
    assert all(re.fullmatch(r"call_[0-9a-f]{24}", c["id"]) and c["type"] == "function" for c in reply.calls)
    assert len({c["id"] for c in reply.calls}) == 2
    assert reply.message()["tool_calls"] == reply.calls


@pytest.mark.parametrize(
    "text, tools, content, reasoning",
    [
        ("<think>no tool fits</think><tool_call>[]</tool_call>", True, "", "no tool fits"),
        ("<think>hm</think><tool_call>[{oops}]</tool_call>", True, "<tool_call>[{oops}]</tool_call>", "hm"),
        ('<think>hm</think><tool_call>[{"name": "f", "arguments": {}}]</tool_call>', False,
         '<tool_call>[{"name": "f", "arguments": {}}]</tool_call>', "hm"),
        ("Hello <think>cut off by max_tok", True, "Hello", "cut off by max_tok"),
        ("  It is sunny.  ", False, "It is sunny.", None),
    ],
)  # fmt: skip
def test_reply_without_usable_calls_keeps_the_text(text, tools, content, reasoning):
    reply = parse_reply(text, tools)
    assert (reply.content, reply.reasoning, reply.calls) == (content, reasoning, [])
    assert "tool_calls" not in reply.message()


PIECES = ["<think>", "</think>", "<tool_call>", "</tool_call>", "<", "</", "<thi", "think>", " ", "\n", "a", "b c",
          '[{"name": "f", "arguments": {}}]', "[]"]  # fmt: skip


@given(
    st.lists(st.sampled_from(PIECES), max_size=12).map("".join),
    st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=40),
    st.booleans(),
)
def test_streamed_fields_join_to_the_whole_reply(text, cuts, tools):
    stream = ReplyStream(tools)
    got = {"reasoning_content": "", "content": ""}
    pos = 0
    for size in cuts * (len(text) // len(cuts) + 1):
        for field, piece in stream.feed(text[pos : pos + size]):
            got[field] += piece
        pos += size
        if pos >= len(text):
            break
    pieces, reply = stream.finish()
    for field, piece in pieces:
        got[field] += piece
    assert reply == parse_reply(text, tools) or reply.calls  # call ids are fresh per parse
    assert got["reasoning_content"] == (reply.reasoning or "")
    # with tools, content is held back for the final delta (it may turn out to be a call block)
    assert got["content"] == ("" if tools else reply.content)

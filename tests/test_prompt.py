"""The Tool-N1 prompt (method §2): the `<tools>` lines, the system prompt layout, history rendering, chat templates.

Example:
    $ .venv/bin/pytest tests/test_prompt.py -q

Expected strings are written out literally from method §2.1 (tool lines: `json.dumps({"type": "function",
"function": tool})` with default separators and ASCII escaping, joined by "\\n") and from the plain fallback
template documented in `tooln1.prompt`.
"""

from __future__ import annotations

import pytest
from tokenizers import Tokenizer, models
from transformers import PreTrainedTokenizerFast

from tooln1.errors import UserError
from tooln1.parsing import parse_completion
from tooln1.prompt import (
    DEFAULT_TEMPLATE,
    PromptTemplate,
    apply_chat_template,
    build_messages,
    canonical_completion,
    format_calls,
    render_plain,
    render_prompt,
    render_tools,
    system_prompt,
)
from tooln1.rewards import score
from tooln1.types import Sample, ToolCall

WEATHER = {"name": "get_weather", "description": "Météo à Zürich", "parameters": {"city": {"type": "str", "default": "Paris"}}}
TIME = {"name": "get_time", "parameters": {"type": "dict", "properties": {}, "required": []}}
WEATHER_LINE = (
    '{"type": "function", "function": {"name": "get_weather", "description": "M\\u00e9t\\u00e9o \\u00e0 Z\\u00fcrich", '
    '"parameters": {"city": {"type": "str", "default": "Paris"}}}}'
)
TIME_LINE = '{"type": "function", "function": {"name": "get_time", "parameters": {"type": "dict", "properties": {}, "required": []}}}'


def test_tools_lines_exact():
    assert render_tools([WEATHER]) == WEATHER_LINE
    assert render_tools([WEATHER, TIME]) == WEATHER_LINE + "\n" + TIME_LINE  # joined by "\n", no trailing newline
    assert render_tools([]) == ""


def test_tools_keep_the_source_key_order():
    tool = {"parameters": {"b": 1, "a": 2}, "name": "z"}
    assert render_tools([tool]) == '{"type": "function", "function": {"parameters": {"b": 1, "a": 2}, "name": "z"}}'


def test_system_prompt_layout_exact():
    t = PromptTemplate(preamble="PRE line 1\nPRE line 2\n", instructions="INSTRUCTIONS\n")
    assert system_prompt([WEATHER, TIME], t) == (
        "PRE line 1\nPRE line 2\n"
        "# Tool\n\n"
        "Here is a list of functions in JSON format that you can invoke:\n\n"
        "<tools>\n" + WEATHER_LINE + "\n" + TIME_LINE + "\n</tools>\n\n"
        "INSTRUCTIONS\n"
    )


def test_default_system_prompt_structure():
    text = system_prompt([WEATHER])
    pre, rest = text.split("# Tool\n\n", 1)
    assert pre == DEFAULT_TEMPLATE.preamble and pre.endswith("\n")
    assert rest.index("<tools>\n") < rest.index(WEATHER_LINE) < rest.index("\n</tools>\n\n")
    instructions = rest.split("</tools>\n\n", 1)[1]
    assert instructions == DEFAULT_TEMPLATE.instructions
    for tag in ("<think>", "</think>", "<tool_call>", "</tool_call>", '"name"', '"arguments"'):
        assert tag in instructions
    assert text.split("<tools>\n")[1].split("\n</tools>")[0].isascii()  # "Météo à Zürich" is escaped


def test_default_instructions_example_is_a_valid_reply():
    """The one-line example in our instructions must itself score 1 as a completion (last block wins)."""
    p = parse_completion(DEFAULT_TEMPLATE.instructions)
    assert p.reason == "ok" and len(p.calls) == 1
    assert score(DEFAULT_TEMPLATE.instructions, p.calls).score == 1.0


def test_format_calls_and_canonical_completion():
    calls = [ToolCall("get_weather", {"city": "Zürich"}), ToolCall("get_time", {})]
    block = '<tool_call>[{"name": "get_weather", "arguments": {"city": "Z\\u00fcrich"}}, {"name": "get_time", "arguments": {}}]</tool_call>'
    assert format_calls(calls) == block
    assert format_calls([c.to_dict() for c in calls]) == block
    assert format_calls([]) == "<tool_call>[]</tool_call>"
    assert canonical_completion(calls, "why") == "<think>why</think>\n" + block


HISTORY = [
    {"role": "user", "content": "Weather in Paris, then the time?"},
    {"role": "assistant", "content": "", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]},
    {"role": "tool", "content": '{"temp": 21}'},
    {"role": "assistant", "content": "Checking.", "tool_calls": [{"name": "get_time", "arguments": {}}]},
    {"role": "tool", "content": "12:00"},
    {"role": "assistant", "content": "It is 21 °C and noon."},
    {"role": "user", "content": "And Rome?"},
]
SAMPLE = Sample(id="s1", source="test", tools=[WEATHER, TIME], messages=HISTORY,
                gold=[ToolCall("get_weather", {"city": "Rome"})])  # fmt: skip


def test_build_messages_renders_history():
    msgs = build_messages(SAMPLE)
    assert msgs == [
        {"role": "system", "content": system_prompt([WEATHER, TIME])},
        {"role": "user", "content": "Weather in Paris, then the time?"},
        {"role": "assistant", "content": '<tool_call>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_call>'},
        {"role": "tool", "content": '{"temp": 21}'},
        {"role": "assistant", "content": 'Checking.\n<tool_call>[{"name": "get_time", "arguments": {}}]</tool_call>'},
        {"role": "tool", "content": "12:00"},
        {"role": "assistant", "content": "It is 21 °C and noon."},
        {"role": "user", "content": "And Rome?"},
    ]
    # Past calls are shown the way the model must answer, not double-encoded as in the official code.
    assert parse_completion(msgs[2]["content"]).calls == HISTORY[1]["tool_calls"]
    assert '\\"' not in msgs[2]["content"]


def test_build_messages_uses_the_template():
    t = PromptTemplate(preamble="P\n", instructions="I\n")
    assert build_messages(SAMPLE, t)[0]["content"] == system_prompt([WEATHER, TIME], t)
    assert len(build_messages(SAMPLE, t)) == 1 + len(HISTORY)  # the gold turn is never included


def test_plain_fallback_exact():
    msgs = [{"role": "system", "content": "SYS"}, {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "<tool_call>[]</tool_call>"}, {"role": "tool", "content": "{}"},
            {"role": "user", "content": "more"}]  # fmt: skip
    text = render_plain(msgs)
    assert text == "SYS\n\nUser: hi\n\nAssistant: <tool_call>[]</tool_call>\n\nTool: {}\n\nUser: more\n\nAssistant:"
    assert text.endswith("Assistant:") and not text.endswith(" ")
    assert render_plain(msgs, add_generation_prompt=False) == text[: -len("Assistant:")]


def _tokenizer(chat_template: str | None) -> PreTrainedTokenizerFast:
    tok = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]")))
    tok.chat_template = chat_template
    return tok


def test_apply_chat_template_fallback_without_template():
    msgs = build_messages(SAMPLE)
    assert apply_chat_template(None, msgs) == render_plain(msgs)
    assert apply_chat_template(_tokenizer(None), msgs) == render_plain(msgs)
    assert render_prompt(SAMPLE) == render_plain(msgs)
    assert render_prompt(SAMPLE).endswith("User: And Rome?\n\nAssistant:")


def test_apply_chat_template_uses_the_tokenizers_own():
    tok = _tokenizer(
        "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}"
    )
    msgs = [{"role": "system", "content": "S"}, {"role": "user", "content": "hi"}]
    assert apply_chat_template(tok, msgs) == "<|system|>S<|user|>hi<|assistant|>"
    assert apply_chat_template(tok, msgs, add_generation_prompt=False) == "<|system|>S<|user|>hi"
    assert render_prompt(SAMPLE, tok).startswith("<|system|>" + system_prompt([WEATHER, TIME]) + "<|user|>")


PAPER_INSTRUCTIONS = (
    "In each action step, you MUST: \n"
    "1. Think about the reasoning process in the mind and enclosed your reasoning within <think> </think> XML tags.\n"
)


def test_template_from_yaml(tmp_path):
    f = tmp_path / "paper.yaml"
    f.write_text(
        'preamble: "You are an expert in composing functions.\\n"\n'
        "instructions: |\n"
        "  In each action step, you MUST: \n"
        "  1. Think about the reasoning process in the mind and enclosed your reasoning within <think> </think> XML tags.\n",
        encoding="utf-8",
    )
    t = PromptTemplate.from_file(f)
    assert t == PromptTemplate(preamble="You are an expert in composing functions.\n", instructions=PAPER_INSTRUCTIONS)
    assert system_prompt([TIME], t).startswith("You are an expert in composing functions.\n# Tool\n\n")
    assert system_prompt([TIME], t).endswith("</tools>\n\n" + PAPER_INSTRUCTIONS)


def test_template_from_yaml_partial_and_empty(tmp_path):
    only = tmp_path / "only.yaml"
    only.write_text("instructions: Just call.\n", encoding="utf-8")
    assert PromptTemplate.from_file(only) == PromptTemplate(instructions="Just call.")
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    assert PromptTemplate.from_file(str(empty)) == DEFAULT_TEMPLATE


@pytest.mark.parametrize(
    ("content", "message"),
    [("preamble: x\nexamples: y\n", "unknown keys \\['examples'\\]"),
     ("- preamble\n", "unknown keys"),
     ("preamble: [unclosed\n", "not valid YAML: while parsing a flow sequence")],
)  # fmt: skip
def test_template_bad_file(tmp_path, content, message):
    f = tmp_path / "bad.yaml"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(UserError, match=message):
        PromptTemplate.from_file(f)


def test_template_missing_file(tmp_path):
    with pytest.raises(UserError, match="prompt file not found"):
        PromptTemplate.from_file(tmp_path / "nope.yaml")

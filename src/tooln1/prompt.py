"""The Tool-N1 prompt: system text with the tool block, chat messages for a sample, and chat-template rendering.

Structure (method §2.1): a preamble, then a `# Tool` block whose `<tools>` section holds one JSON line per tool,
`json.dumps({"type": "function", "function": tool})` with Python's default separators and ASCII escaping, then
the instructions: reason inside `<think>`, then emit ONE JSON list of `{"name", "arguments"}` inside
`<tool_call>`, with a one-line example. The sentences are our own; the wording is not part of the method, and
`PromptTemplate.from_file` lets anyone run with the paper's exact text, which ships as
`configs/prompts/tool_n1_paper.yaml` (used by the paper recipe `configs/tool_n1_qwen2.5_7b.yaml`; `--prompt-file`
of `tooln1 eval`, `tooln1 serve` and `tooln1 data build`).

Example:
    >>> tools = [{"name": "get_weather", "parameters": {"city": {"type": "str"}}}]
    >>> print(render_tools(tools))
    {"type": "function", "function": {"name": "get_weather", "parameters": {"city": {"type": "str"}}}}
    >>> format_calls([ToolCall("get_weather", {"city": "Paris"})])
    '<tool_call>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_call>'

Chat rendering: `apply_chat_template(tokenizer, messages)` uses the tokenizer's own template when it has one,
else the documented plain-text fallback `PLAIN_CHAT_TEMPLATE` (for base models), which renders

    <system text>

    User: <text>

    Assistant: <text>

    Tool: <text>

    Assistant:

and ends with "Assistant:" *without* a trailing space: a trailing space leaves a lone space token that the model
never follows with `<`, which collapses the think-first rate of small base models (cpu_measurements.md §5).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from tooln1.errors import UserError
from tooln1.types import Sample, ToolCall

# DEVIATION from the paper, on purpose: our own wording is the default everywhere (demo, tests, serve); the paper's
# verbatim text (configs/prompts/tool_n1_paper.yaml) has typos and says "Here is a list of functions" twice.
DEFAULT_PREAMBLE = (
    "You are an expert at calling functions. You get a request and a set of functions that may serve it.\n"
    "Decide which function calls, if any, fulfil the request, and give them with exactly the right arguments.\n"
    "If no function fits, or the request lacks a required argument, make no call.\n"
)

DEFAULT_INSTRUCTIONS = (
    "In every reply you must:\n"
    "1. Reason about the request first, and put that reasoning inside <think> </think> XML tags.\n"
    "2. Then give the calls as ONE JSON list inside <tool_call></tool_call> XML tags, i.e. "
    '<tool_call>[{"name": <function-name>, "arguments": <args-json-object>}, ...]</tool_call>. '
    "If no function should be called, give an empty list: <tool_call>[]</tool_call>.\n"
    "3. Put the reasoning and the tool call together in this one reply.\n"
    "Example of a complete reply: <think>The user wants the weather in Paris, so I call get_weather with "
    'city Paris.</think><tool_call>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_call>\n'
    "Give every argument the exact type the function expects.\n"
)

# The fallback for tokenizers without a chat template; `tooln1 model prepare` also installs it on the bundled
# base model, so the bundled model and the fallback render identically.
PLAIN_CHAT_TEMPLATE = (
    "{%- for m in messages -%}"
    "{%- if m['role'] == 'system' -%}{{ m['content'] }}{{ '\\n\\n' }}"
    "{%- elif m['role'] == 'user' -%}{{ 'User: ' + m['content'] + '\\n\\n' }}"
    "{%- elif m['role'] == 'assistant' -%}{{ 'Assistant: ' + m['content'] + '\\n\\n' }}"
    "{%- elif m['role'] == 'tool' -%}{{ 'Tool: ' + m['content'] + '\\n\\n' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ 'Assistant:' }}{%- endif -%}"
)


@dataclass(frozen=True)
class PromptTemplate:
    """The replaceable wording of the system prompt (everything but the `# Tool` block layout)."""

    preamble: str = DEFAULT_PREAMBLE
    instructions: str = DEFAULT_INSTRUCTIONS

    @classmethod
    def from_file(cls, path: str | Path) -> PromptTemplate:
        """Load wording from a YAML file with `preamble` and/or `instructions` keys (others keep our default)."""
        p = Path(path)
        if not p.is_file():
            raise UserError(f"prompt file not found: {p}")
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:  # a multi-line message: squeeze it into the one-line CLI error
            raise UserError(f"{p}: not valid YAML: {' '.join(str(e).split())}") from None
        unknown = set(data) - {"preamble", "instructions"} if isinstance(data, dict) else {"<not a mapping>"}
        if unknown:
            raise UserError(f"{p}: unknown keys {sorted(unknown)}; valid keys: ['instructions', 'preamble']")
        return cls(**{k: str(v) for k, v in data.items()})


DEFAULT_TEMPLATE = PromptTemplate()


def render_tools(tools: list[dict[str, Any]]) -> str:
    """One JSON line per tool, wrapped as `{"type": "function", "function": tool}` (method §2.1)."""
    return "\n".join(json.dumps({"type": "function", "function": t}) for t in tools)


def system_prompt(tools: list[dict[str, Any]], template: PromptTemplate = DEFAULT_TEMPLATE) -> str:
    """The full system message: preamble + `# Tool` block + instructions."""
    return (
        f"{template.preamble}# Tool\n\nHere is a list of functions in JSON format that you can invoke:\n\n"
        f"<tools>\n{render_tools(tools)}\n</tools>\n\n{template.instructions}"
    )


def format_calls(calls: list[ToolCall] | list[dict[str, Any]]) -> str:
    """A call list in the canonical output form `<tool_call>[...]</tool_call>`."""
    items = [c.to_dict() if isinstance(c, ToolCall) else c for c in calls]
    return f"<tool_call>{json.dumps(items)}</tool_call>"


def canonical_completion(calls: list[ToolCall] | list[dict[str, Any]], think: str = "I will call the tools.") -> str:
    """The completion a perfect model gives: `<think>…</think>` then the call block. Scores 1 by construction."""
    return f"<think>{think}</think>\n{format_calls(calls)}"


def build_messages(sample: Sample, template: PromptTemplate = DEFAULT_TEMPLATE) -> list[dict[str, str]]:
    """Chat messages for a sample (method §2.2): system, then the history; the target turn is not included.

    Past assistant calls are rendered as `<tool_call>[...]</tool_call>`. Deviation from the official code, which
    put `json.dumps` of an already-encoded JSON string in the assistant turn (a double-encoded, tag-less call):
    we show past calls in the same form the model must produce, so history and target agree.
    """
    msgs = [{"role": "system", "content": system_prompt(sample.tools, template)}]
    for m in sample.messages:
        content = m.get("content") or ""
        if m["role"] == "assistant" and m.get("tool_calls"):
            content = (content + "\n" if content else "") + format_calls(m["tool_calls"])
        msgs.append({"role": m["role"], "content": content})
    return msgs


@lru_cache(maxsize=1)
def _plain_template() -> Any:
    import jinja2

    return jinja2.Environment(autoescape=False).from_string(PLAIN_CHAT_TEMPLATE)


def render_plain(messages: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
    """Render messages with the plain-text fallback template (see module docstring)."""
    return _plain_template().render(messages=messages, add_generation_prompt=add_generation_prompt)


def apply_chat_template(tokenizer: Any, messages: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
    """Render with the tokenizer's chat template, or the plain-text fallback when it has none (base models).

    No `tools=` argument is passed: the tools live in the system text, as in the official pipeline (§2.3).
    """
    if tokenizer is None or not tokenizer.chat_template:
        return render_plain(messages, add_generation_prompt)
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)


def render_prompt(sample: Sample, tokenizer: Any = None, template: PromptTemplate = DEFAULT_TEMPLATE) -> str:
    """The exact prompt string a model sees for `sample`."""
    return apply_chat_template(tokenizer, build_messages(sample, template))

"""Chat requests to Tool-N1 prompts, and model replies to OpenAI assistant messages (whole or streamed).

Example:
    >>> req = ChatCompletionRequest.model_validate({
    ...     "messages": [{"role": "user", "content": "Weather in Paris?"}],
    ...     "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]})
    >>> "<tools>" in chat_prompt(req, tokenizer=None)
    True
    >>> r = parse_reply('<think>easy</think><tool_call>[{"name": "get_weather", '
    ...                 '"arguments": {"city": "Paris"}}]</tool_call>', tools=True)
    >>> r.reasoning, r.content, r.calls[0]["function"]["arguments"]
    ('easy', None, '{"city": "Paris"}')

A request with tools is rendered with the Tool-N1 prompt (`tooln1.prompt.render_prompt`); one without, with the
plain chat template. A client system message (or several, or "developer" ones anywhere in the conversation) is
put before our preamble, never in place of it: the trained model saw our preamble and instructions, and the
single system turn of the Tool-N1 prompt has no other place for it.

Replies are split by `tooln1.parsing`: the first `<think>` block becomes `reasoning_content` (a think block cut off
by max_tokens counts up to the end), the parsed `<tool_call>` list becomes `tool_calls`, and what remains is
`content`. A payload that does not parse stays in `content` verbatim, so the client sees what the model said.

Under the plain-text chat template (the bundled model's), a reply also ends where the model starts writing the
next turn ("\n\nUser:", "\n\nTool:"): that template has no end-of-turn token, and an untrained base model would
otherwise go on inventing the conversation until max_tokens. Only chat does this; `/v1/completions` stays raw.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, replace
from typing import Any

from tooln1 import safejson
from tooln1.parsing import parse_completion
from tooln1.prompt import (
    DEFAULT_TEMPLATE,
    PLAIN_CHAT_TEMPLATE,
    PromptTemplate,
    apply_chat_template,
    build_messages,
    render_prompt,
)
from tooln1.serve.protocol import ApiError, ChatCompletionRequest
from tooln1.types import Sample

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
# The plain-text template has no end-of-turn token: a reply is over when the model starts the next turn.
PLAIN_TURN_STOPS = ("\n\nUser:", "\n\nTool:")
# For taking call blocks out of the content shown to the client; which block counts is parse_completion's rule.
CALL_BLOCK_RE = re.compile(r"<tool_call>.*?</tool_call>", re.DOTALL)


def request_sample(req: ChatCompletionRequest) -> tuple[Sample, list[str]]:
    """The request as a Tool-N1 `Sample` (history only, no gold) plus the client's system texts, in order."""
    system: list[str] = []
    history: list[dict[str, Any]] = []
    for i, m in enumerate(req.messages):
        if m.role in ("system", "developer"):
            system.append(m.text)
            continue
        msg: dict[str, Any] = {"role": m.role, "content": m.text}
        if m.role == "assistant" and m.tool_calls:
            msg["tool_calls"] = [_history_call(c.function.name, c.function.arguments, i, j) for j, c in
                                 enumerate(m.tool_calls)]  # fmt: skip
        history.append(msg)
    tools = [{k: v for k, v in t.function.items() if k != "strict"} for t in req.tools or []]
    return Sample(id="request", source="serve", tools=tools, messages=history, gold=[]), system


def _history_call(name: str, arguments: str, i: int, j: int) -> dict[str, Any]:
    try:
        # safejson: arguments nested thousands deep (RecursionError in json.loads) are a 400 like any bad JSON.
        args = safejson.loads(arguments, "") if arguments.strip() else {}
    except safejson.JsonProblem as e:
        raise ApiError(
            400, f"tool call arguments must be a JSON string ({e.reason}: {e})",
            param=f"messages.{i}.tool_calls.{j}.function.arguments", code=e.reason,
        ) from None  # fmt: skip
    return {"name": name, "arguments": args}


def chat_prompt(req: ChatCompletionRequest, tokenizer: Any, template: PromptTemplate = DEFAULT_TEMPLATE) -> str:
    """The exact prompt text for a chat request (see the module docstring for the rules)."""
    import jinja2

    sample, system = request_sample(req)
    client_system = "\n\n".join(s for s in system if s.strip())
    try:
        if req.uses_tools:
            if client_system:
                template = replace(template, preamble=f"{client_system}\n\n{template.preamble}")
            return render_prompt(sample, tokenizer, template)
        # build_messages renders the history (past calls as <tool_call> blocks); its tool system turn is dropped.
        messages = build_messages(sample, template)[1:]
        if client_system:
            messages.insert(0, {"role": "system", "content": client_system})
        return apply_chat_template(tokenizer, messages)
    except jinja2.TemplateError as e:  # e.g. a model's own template refusing a role order
        raise ApiError(400, f"the chat template rejected the messages: {e}", param="messages") from None


def turn_stops(tokenizer: Any) -> tuple[str, ...]:
    """Stop strings that end an assistant turn: the next turn's marker under the plain-text template, else none
    (a real chat template ends turns with a token the model's generation config already stops on)."""
    plain = tokenizer is None or not tokenizer.chat_template or tokenizer.chat_template == PLAIN_CHAT_TEMPLATE
    return PLAIN_TURN_STOPS if plain else ()


@dataclass(frozen=True)
class Reply:
    """An assistant reply split into OpenAI message fields; `calls` are already in OpenAI `tool_calls` shape."""

    content: str | None
    reasoning: str | None
    calls: list[dict[str, Any]]

    def message(self) -> dict[str, Any]:
        msg: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.reasoning is not None:
            msg["reasoning_content"] = self.reasoning
        if self.calls:
            msg["tool_calls"] = self.calls
        return msg


def split_think(text: str) -> tuple[str | None, str]:
    """(reasoning, the rest): the first think block (the one `parse_completion` reports), or everything after
    an unclosed `<think>`, which is a think block cut off by max_tokens."""
    start = text.find(THINK_OPEN)
    if start < 0:
        return None, text
    end = text.find(THINK_CLOSE, start + len(THINK_OPEN))
    if end < 0:
        return text[start + len(THINK_OPEN) :].strip(), text[:start]
    return text[start + len(THINK_OPEN) : end].strip(), text[:start] + text[end + len(THINK_CLOSE) :]


def openai_call(call: dict[str, Any]) -> dict[str, Any]:
    """A parsed `{"name", "arguments"}` as an OpenAI tool call with a fresh id and JSON-string arguments."""
    args = call["arguments"]
    return {
        "id": f"call_{uuid.uuid4().hex[:24]}",
        "type": "function",
        "function": {"name": str(call["name"]), "arguments": args if isinstance(args, str) else json.dumps(args)},
    }


def parse_reply(text: str, tools: bool) -> Reply:
    """Split a completion; calls are only looked for when the request offered tools."""
    reasoning, rest = split_think(text)
    calls: list[dict[str, Any]] = []
    if tools:
        parsed = parse_completion(text)
        if parsed.calls is not None:
            calls = [openai_call(c) for c in parsed.calls]
            rest = CALL_BLOCK_RE.sub("", rest)
    content = rest.strip()
    return Reply(content=None if calls and not content else content, reasoning=reasoning, calls=calls)


class _Trimmed:
    """Streams one field so that the pieces join to the field's `.strip()`: leading white space is dropped and
    trailing white space is held until something follows it."""

    def __init__(self) -> None:
        self.started = False
        self.held = ""

    def feed(self, text: str) -> str:
        if not self.started:
            text = text.lstrip()
            if not text:
                return ""
            self.started = True
        body = text.rstrip()
        out = self.held + body if body else ""
        self.held = text[len(body) :] if body else self.held + text
        return out


def _partial_tail(text: str, tag: str) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of `tag` (it may become the tag)."""
    for k in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-k:]):
            return k
    return 0


class ReplyStream:
    """Turns raw text deltas into (field, delta) pairs that join to `parse_reply`'s reasoning and content.

    Reasoning is streamed as it is generated. Content is streamed live for plain chat; with tools it is held to
    the end (it may turn out to be a call block), when `finish` gives the whole `Reply`.
    """

    def __init__(self, tools: bool):
        self.tools = tools
        self.text = ""
        self.pending = ""
        self.state = "before"  # before the first <think>, inside it, after it
        self.fields = {"reasoning_content": _Trimmed(), "content": _Trimmed()}

    def feed(self, delta: str) -> list[tuple[str, str]]:
        self.text += delta
        self.pending += delta
        out: list[tuple[str, str]] = []
        while True:
            tag = {"before": THINK_OPEN, "inside": THINK_CLOSE}.get(self.state)
            field = "reasoning_content" if self.state == "inside" else "content"
            if tag is None:
                self._emit(out, field, self.pending)
                self.pending = ""
                return out
            at = self.pending.find(tag)
            if at < 0:
                keep = _partial_tail(self.pending, tag)
                self._emit(out, field, self.pending[: len(self.pending) - keep])
                self.pending = self.pending[len(self.pending) - keep :]
                return out
            self._emit(out, field, self.pending[:at])
            self.pending = self.pending[at + len(tag) :]
            self.state = "inside" if self.state == "before" else "after"

    def _emit(self, out: list[tuple[str, str]], field: str, text: str) -> None:
        if field == "content" and self.tools:
            return
        piece = self.fields[field].feed(text)
        if piece:
            out.append((field, piece))

    def finish(self) -> tuple[list[tuple[str, str]], Reply]:
        """The last deltas (a held partial tag, if it never completed) and the whole reply."""
        out: list[tuple[str, str]] = []
        self._emit(out, "reasoning_content" if self.state == "inside" else "content", self.pending)
        self.pending = ""
        return out, parse_reply(self.text, self.tools)

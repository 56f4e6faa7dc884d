"""What an agent client asks for beyond `tool_choice: "auto"`: constrained decoding and the call policy.

Example:
    >>> req = ChatCompletionRequest.model_validate({
    ...     "messages": [{"role": "user", "content": "Weather in Paris?"}],
    ...     "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {
    ...         "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
    ...     "tool_choice": {"type": "function", "function": {"name": "get_weather"}}})
    >>> grammar = request_grammar(req)
    >>> grammar.startswith('start: "<tool_call>" calls "</tool_call>"')
    True

- `tool_choice: "required"` or a named function: the reply is forced, token by token, to be
  `<tool_call>[{"name": ..., "arguments": {...}}]</tool_call>` with at least one call (exactly one, to that
  function, when named) whose `arguments` follow the tool's JSON schema. No `<think>` block is written then.
- `response_format` `json_object` / `json_schema`: the content is forced to be JSON (matching the schema). With
  tools on `auto`, the reply is either a call block or such JSON.
- `parallel_tool_calls: false`: forced replies hold one call; a free reply keeps its first call only.
- A call to a tool the request did not offer is returned as content (the call block as text), not as a call.

The decoding constraint is llguidance (the engine behind vLLM's `guidance` backend and llama.cpp's grammars):
a Lark grammar with the schemas embedded through `%json`, compiled against the model's tokenizer, applied by
`GrammarLogitsProcessor` as a transformers `LogitsProcessor` that masks every token the grammar cannot take next.
An invalid schema is a 400; nothing the client sets is ignored.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from typing import Any

from tooln1.serve.chat import Reply
from tooln1.serve.protocol import ApiError, ChatCompletionRequest

logger = logging.getLogger(__name__)

CALL_OPEN, CALL_CLOSE = "<tool_call>", "</tool_call>"
# The canonical call text the model is trained on (tooln1.prompt.canonical_completion): ", " and ": ".
_JSON_STYLE = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": ", "lenient": True}


def _call_schema(req: ChatCompletionRequest, only: str | None, one: bool) -> dict[str, Any]:
    """JSON schema of the call list: items are {"name": <an offered tool>, "arguments": <its parameters>}."""
    items = []
    for tool in req.tools or []:
        fn = tool.function
        if only is not None and fn["name"] != only:
            continue
        params = fn.get("parameters") or {"type": "object"}
        items.append({
            "type": "object", "properties": {"name": {"const": fn["name"]}, "arguments": params},
            "required": ["name", "arguments"], "additionalProperties": False,
        })  # fmt: skip
    schema: dict[str, Any] = {"type": "array", "items": items[0] if len(items) == 1 else {"anyOf": items},
                              "minItems": 1, "x-guidance": _JSON_STYLE}  # fmt: skip
    if one:
        schema["maxItems"] = 1
    return schema


def _content_schema(req: ChatCompletionRequest) -> dict[str, Any] | None:
    fmt = req.response_format
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object":
        return {"type": "object", "x-guidance": _JSON_STYLE}
    if fmt.json_schema is None or not isinstance(fmt.json_schema.schema_, dict):
        raise ApiError(400, "response_format json_schema needs json_schema.schema", param="response_format")
    return {**fmt.json_schema.schema_, "x-guidance": _JSON_STYLE}


def request_grammar(req: ChatCompletionRequest) -> str | None:
    """The Lark grammar the reply must follow, or None for free decoding. The request model has checked that a
    forced `tool_choice` comes with tools (and names one of them); a json_schema without a schema is a 400."""
    choice = req.tool_choice
    forced = choice == "required" or not isinstance(choice, str | type(None))
    only = None if isinstance(choice, str | type(None)) else choice.function.name
    content = _content_schema(req)
    if forced:
        calls = _call_schema(req, only, one=only is not None or req.parallel_tool_calls is False)
        return f'start: "{CALL_OPEN}" calls "{CALL_CLOSE}"\ncalls: %json {json.dumps(calls)}\n'
    if content is None:
        return None
    if req.uses_tools:
        calls = _call_schema(req, None, one=req.parallel_tool_calls is False)
        return (f'start: call_block | content\ncall_block: "{CALL_OPEN}" calls "{CALL_CLOSE}"\n'
                f"calls: %json {json.dumps(calls)}\ncontent: %json {json.dumps(content)}\n")  # fmt: skip
    return f"start: content\ncontent: %json {json.dumps(content)}\n"


def apply_call_policy(reply: Reply, req: ChatCompletionRequest) -> Reply:
    """Calls to tools the request did not offer go back to content as text; with `parallel_tool_calls: false`
    only the first call is kept."""
    if not reply.calls:
        return reply
    offered = set(req.tool_names)
    known = [c for c in reply.calls if c["function"]["name"] in offered]
    unknown = [c for c in reply.calls if c["function"]["name"] not in offered]
    if req.parallel_tool_calls is False and len(known) > 1:
        logger.info("parallel_tool_calls=false: keeping the first of %d calls", len(known))
        known = known[:1]
    if not unknown:
        return Reply(reply.content, reply.reasoning, known)
    text = json.dumps([{"name": c["function"]["name"], "arguments": _loads(c["function"]["arguments"])}
                       for c in unknown], ensure_ascii=False)  # fmt: skip
    content = "\n".join(p for p in (reply.content, f"{CALL_OPEN}{text}{CALL_CLOSE}") if p)
    return Reply(content, reply.reasoning, known)


def _loads(arguments: str) -> Any:
    try:
        return json.loads(arguments)
    except ValueError:
        return arguments


@lru_cache(maxsize=4)
def _ll_tokenizer(tokenizer: Any, n_vocab: int, eos: tuple[int, ...]) -> Any:
    """llguidance's view of a fast HF tokenizer (about a second to build, so cached per tokenizer)."""
    import llguidance.hf

    return llguidance.hf.from_tokenizer(tokenizer, n_vocab=n_vocab, eos_token=list(eos))


def check_grammar(grammar: str, tokenizer: Any, n_vocab: int, eos: tuple[int, ...]) -> None:
    """Raise ApiError(400) when llguidance cannot compile the grammar (e.g. a schema feature it lacks)."""
    import llguidance

    error = llguidance.LLMatcher.validate_grammar(llguidance.LLMatcher.grammar_from_lark(grammar),
                                                  _ll_tokenizer(tokenizer, n_vocab, eos))  # fmt: skip
    if error and not error.startswith("WARNING"):
        raise ApiError(400, f"cannot constrain decoding to this schema: {error}", param="response_format")


class GrammarLogitsProcessor:
    """A transformers `LogitsProcessor`: each row may only take tokens its llguidance matcher accepts.

    Rows are the generated sequences (`num_return_sequences`); after the grammar is complete only EOS is
    allowed, so generation ends there. A row that has stopped is left alone (transformers pads it).
    """

    def __init__(self, grammar: str, tokenizer: Any, n_vocab: int, eos: tuple[int, ...], rows: int):
        import llguidance

        ll_tok = _ll_tokenizer(tokenizer, n_vocab, eos)
        lark = llguidance.LLMatcher.grammar_from_lark(grammar)
        self.matchers = [llguidance.LLMatcher(ll_tok, lark, log_level=0) for _ in range(rows)]
        self.n_vocab, self.eos = n_vocab, eos
        self.started = False

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import llguidance.numpy
        import numpy as np
        import torch

        if self.started:  # the previous step's token, now at the end of each row
            for m, token in zip(self.matchers, input_ids[:, -1].tolist(), strict=True):
                if not m.is_stopped():
                    m.consume_token(token)
        self.started = True
        mask = llguidance.numpy.allocate_token_bitmask(len(self.matchers), self.n_vocab)
        for row, m in enumerate(self.matchers):
            if m.is_error():
                raise RuntimeError(f"constrained decoding failed: {m.get_error()}")
            if not m.is_stopped():
                llguidance.numpy.fill_next_token_bitmask(m, mask, row)
        allowed = np.unpackbits(mask.view(np.uint8), axis=1, bitorder="little")[:, : scores.shape[-1]]
        allowed = torch.from_numpy(allowed.astype(bool)).to(scores.device)
        for row, m in enumerate(self.matchers):
            if m.is_stopped():  # the grammar is complete: the reply ends here (a finished row is padded anyway)
                allowed[row] = False
                allowed[row, list(self.eos)] = True
        return scores.masked_fill(~allowed, float("-inf"))

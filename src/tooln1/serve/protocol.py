"""The OpenAI wire format that `tooln1 serve` accepts and the error body it answers with.

Example:
    >>> req = ChatCompletionRequest.model_validate(
    ...     {"model": "m", "messages": [{"role": "user", "content": "Weather in Paris?"}], "max_tokens": 64}
    ... )
    >>> req.messages[0].text, req.token_limit
    ('Weather in Paris?', 64)
    >>> ApiError(429, "server busy", "rate_limit_exceeded").body()["error"]["type"]
    'rate_limit_exceeded'

Only what the server honours is declared. Unknown fields are ignored, as OpenAI-compatible servers do, but fields
whose effect we cannot give (logprobs, penalties, logit_bias, echo, best_of, suffix) are refused with a 400
rather than silently dropped, so a client never believes a setting took effect when it did not. Types are
strict, as OpenAI's are (`"max_tokens": "10"` is a 400, not 10), and a request holding a lone surrogate or nesting
past `safejson.MAX_DEPTH` is a 400 too.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tooln1 import safejson

MAX_N = 16  # choices per request: each one is a full generation on a small server
MAX_STOP = 4  # OpenAI's own limit on stop sequences


class ApiError(Exception):
    """An error the server answers with an OpenAI-style body: {"error": {"message", "type", "param", "code"}}."""

    def __init__(
        self,
        status: int,
        message: str,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type, param, code

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


class _Strict(BaseModel):
    """Strict types, as the OpenAI API has them: `"max_tokens": "10"`, `"n": true` or `"stream": "yes"` are a 400,
    not silently coerced (pydantic's default lax mode would take them). An int is still a valid float."""

    model_config = ConfigDict(strict=True)


class TextPart(_Strict):
    type: Literal["text"]
    text: str


class FunctionCall(_Strict):
    name: str
    arguments: str


class MessageToolCall(_Strict):
    id: str | None = None
    type: Literal["function"] = "function"
    function: FunctionCall


class ChatMessage(_Strict):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = None
    tool_calls: list[MessageToolCall] | None = None
    tool_call_id: str | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _has_content(self) -> ChatMessage:
        if self.content is None and not (self.role == "assistant" and self.tool_calls):
            raise ValueError(f"a {self.role} message needs content")
        return self

    @property
    def text(self) -> str:
        """The content as one string (text parts joined, as OpenAI does for multi-part text)."""
        if isinstance(self.content, list):
            return "".join(p.text for p in self.content)
        return self.content or ""


class ToolDef(_Strict):
    type: Literal["function"]
    # Kept as the raw dict: the Tool-N1 prompt shows a tool schema exactly as given (key order included).
    function: dict[str, Any]

    @field_validator("function")
    @classmethod
    def _named(cls, f: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(f.get("name"), str) or not f["name"]:
            raise ValueError("a function needs a non-empty string 'name'")
        return f


class ToolChoiceFunction(BaseModel):
    name: str


class NamedToolChoice(BaseModel):
    """`{"type": "function", "function": {"name": ...}}`: the reply must be one call to that tool."""

    type: Literal["function"]
    function: ToolChoiceFunction


class JsonSchemaFormat(BaseModel):
    name: str = "response"
    description: str | None = None
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    strict: bool | None = None


class ResponseFormat(BaseModel):
    """`response_format`: honoured by constrained decoding (`tooln1.serve.constrain`)."""

    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class StreamOptions(_Strict):
    include_usage: bool = False


class SamplingRequest(_Strict):
    """Fields shared by /v1/chat/completions and /v1/completions."""

    model: str = ""
    max_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    n: int = Field(1, ge=1, le=MAX_N)
    stop: str | list[str] | None = None
    seed: int | None = Field(None, ge=-(2**63), lt=2**63)  # OpenAI's seed is a 64-bit integer
    stream: bool = False
    stream_options: StreamOptions | None = None
    # Declared only to refuse them when set (see the module docstring).
    logprobs: bool | int | None = None
    top_logprobs: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    logit_bias: dict[str, float] | None = None

    @model_validator(mode="before")
    @classmethod
    def _safe_strings(cls, data: Any) -> Any:
        # A lone surrogate cannot be tokenized (or written back as UTF-8), and nesting past safejson.MAX_DEPTH
        # breaks the recursive stages after this: both are the client's fault, so a 400 here rather than a 500.
        safejson.check_value(data, "request")
        return data

    @field_validator("stop")
    @classmethod
    def _stops(cls, v: str | list[str] | None) -> str | list[str] | None:
        stops = [v] if isinstance(v, str) else v or []
        if len(stops) > MAX_STOP or any(not s for s in stops):
            raise ValueError(f"stop takes at most {MAX_STOP} non-empty strings")
        return v

    @model_validator(mode="after")
    def _refuse_unsupported(self) -> SamplingRequest:
        unsupported = {
            "logprobs": bool(self.logprobs),
            "top_logprobs": self.top_logprobs is not None,
            "frequency_penalty": bool(self.frequency_penalty),
            "presence_penalty": bool(self.presence_penalty),
            "logit_bias": bool(self.logit_bias),
        }
        unsupported.update(self._more_unsupported())
        bad = [k for k, v in unsupported.items() if v]
        if bad:
            raise ValueError(f"not supported by this server: {', '.join(bad)}")
        return self

    def _more_unsupported(self) -> dict[str, bool]:
        return {}

    @property
    def stop_list(self) -> tuple[str, ...]:
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop or ())

    @property
    def token_limit(self) -> int | None:
        return self.max_tokens

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)


class ChatCompletionRequest(SamplingRequest):
    messages: list[ChatMessage] = Field(min_length=1)
    tools: list[ToolDef] | None = None
    # "none" renders without the tool block; "required", a named function, response_format and
    # parallel_tool_calls are honoured by tooln1.serve.constrain.
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    max_completion_tokens: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _tool_choice_has_tools(self) -> ChatCompletionRequest:
        names = self.tool_names
        if self.tool_choice == "required" and not names:
            raise ValueError("tool_choice 'required' needs tools")
        if isinstance(self.tool_choice, NamedToolChoice) and self.tool_choice.function.name not in names:
            raise ValueError(f"tool_choice names '{self.tool_choice.function.name}', which is not among the tools")
        return self

    @property
    def token_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    @property
    def tool_names(self) -> list[str]:
        return [t.function["name"] for t in self.tools or []]

    @property
    def uses_tools(self) -> bool:
        return bool(self.tools) and self.tool_choice != "none"


class CompletionRequest(SamplingRequest):
    prompt: str
    echo: bool | None = None
    best_of: int | None = None
    suffix: str | None = None

    def _more_unsupported(self) -> dict[str, bool]:
        return {"echo": bool(self.echo), "best_of": (self.best_of or 1) > 1, "suffix": bool(self.suffix)}

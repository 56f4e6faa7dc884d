"""The FastAPI app: OpenAI routes, the API-key and body-size guard, the generation limiter, error bodies.

Example:
    >>> app = create_app(model, tokenizer, ServeConfig(model_name="tooln1-gemma", api_key="k"))
    >>> with tooln1.serve.server.background(app) as url:
    ...     req = urllib.request.Request(url + "/models", headers={"Authorization": "Bearer k"})
    ...     json.load(urllib.request.urlopen(req))["data"][0]["id"]
    'tooln1-gemma'

Routes: `GET /v1/models`, `POST /v1/chat/completions` (Tool-N1 prompt when the request has tools, see
`tooln1.serve.chat`), `POST /v1/completions` (the prompt string as is, the raw text back, no parsing: what
BFCL-style evaluation sends). Every error is an OpenAI-style body `{"error": {"message", "type", "param",
"code"}}`: 400 for a malformed request (`context_length_exceeded` when the prompt leaves no room), 401 for a wrong
key, 404 for any other path (`/v1/responses` too: the Responses API is not served, and the message says how an
openai-agents client switches), 408 for a body not received within `body_timeout`, 413 for an oversized body, 429
when the queue is full, 503 when a queued request waited too long, 500 when the model fails; the server keeps
serving after each. A client that hangs up stops its generation (streamed or not) at the next token. Each request
is logged in one line: method, path, status, latency, prompt and completion tokens.

Generations run in worker threads (torch releases the GIL), at most `max_concurrency` at a time; the event loop
stays free to answer, queue and refuse. The model name in a request is not checked: one server, one model.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hmac
import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException

from tooln1.prompt import DEFAULT_TEMPLATE, PromptTemplate
from tooln1.serve.chat import ReplyStream, chat_prompt, parse_reply, turn_stops
from tooln1.serve.constrain import apply_call_policy, check_grammar, request_grammar
from tooln1.serve.generation import Generation, Generator, HFGenerator, SamplingParams
from tooln1.serve.protocol import ApiError, ChatCompletionRequest, CompletionRequest, SamplingRequest

logger = logging.getLogger(__name__)

USAGE_KEY = "tooln1_usage"  # where a route leaves its token counts (scope["state"]) for the request log line
DISCONNECT_POLL_S = 0.1
ROUTES = "GET /v1/models, POST /v1/chat/completions and POST /v1/completions"


@dataclass(frozen=True)
class ServeConfig:
    """Server settings; the defaults suit one small model on a CPU."""

    model_name: str = "tooln1"
    api_key: str | None = None
    max_concurrency: int = 1  # generations at once
    max_queue: int = 32  # requests waiting for a slot; one more gets a 429
    queue_timeout: float = 60.0  # seconds a request may wait for a slot before a 503
    max_tokens_cap: int = 2048  # the largest max_tokens accepted, and the default
    max_body_bytes: int = 1_000_000
    body_timeout: float = 10.0  # seconds a client may take to send a whole request body, then 408
    max_model_len: int | None = None  # context bound below the model's own (prompt + completion tokens)
    template: PromptTemplate = DEFAULT_TEMPLATE  # must be the wording the model was trained with


class Limiter:
    """At most `concurrency` generations at once, in a thread pool of that size; a bounded, timed queue."""

    def __init__(self, concurrency: int, max_queue: int, timeout: float):
        self.slots = asyncio.Semaphore(concurrency)
        self.pool = concurrent.futures.ThreadPoolExecutor(concurrency, thread_name_prefix="tooln1-generate")
        self.max_queue, self.timeout, self.waiting = max_queue, timeout, 0

    async def submit(self, fn: Callable[[], Generation]) -> concurrent.futures.Future:
        """Wait for a slot (or raise 429/503), then start `fn` in a worker thread.

        The slot is freed when the thread finishes, not when the request ends: a client that hangs up cannot
        make the server run more generations than allowed.
        """
        if self.slots.locked() and self.waiting >= self.max_queue:
            raise ApiError(429, "too many requests waiting; retry later", "rate_limit_error", code="queue_full")
        self.waiting += 1
        try:
            await asyncio.wait_for(self.slots.acquire(), self.timeout)
        except TimeoutError:
            raise ApiError(
                503, f"no generation slot freed within {self.timeout:g} s; retry later", "server_error",
                code="queue_timeout",
            ) from None  # fmt: skip
        finally:
            self.waiting -= 1
        loop = asyncio.get_running_loop()
        try:
            future = self.pool.submit(fn)
        except BaseException:
            self.slots.release()
            raise
        future.add_done_callback(lambda _: _call_soon(loop, self.slots.release))
        return future


def _call_soon(loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any) -> None:
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:  # the loop closed (server shutting down); nothing is left to notify
        pass


async def _result(future: concurrent.futures.Future) -> Generation:
    try:
        return await asyncio.wrap_future(future)
    except Exception as e:
        logger.exception("generation failed")
        raise ApiError(500, f"generation failed: {type(e).__name__}: {e}", "server_error") from None


def _error(status: int, message: str, type: str = "invalid_request_error", **kw: Any) -> JSONResponse:
    return JSONResponse(ApiError(status, message, type, **kw).body(), status_code=status)


def _bearer_ok(header: bytes, api_key: str) -> bool:
    """`Authorization: Bearer KEY`, the scheme in any case (RFC 7235), compared in constant time."""
    scheme, _, token = header.strip().partition(b" ")
    return scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), api_key.encode())


class _Guard:
    """ASGI middleware run before any body parsing: the bearer-token check, the request size cap, a deadline on
    the whole body (a client that never finishes its body holds a connection for `body_timeout` at most), and one
    log line per request (method, path, status, latency, prompt and completion tokens)."""

    def __init__(self, app: Any, api_key: str | None, max_body: int, body_timeout: float = 10.0):
        self.app, self.api_key, self.max_body, self.body_timeout = app, api_key, max_body, body_timeout

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = 0

        async def send_logged(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._guarded(scope, receive, send_logged)
        except Exception:
            status = status or 500  # answered by Starlette's outermost error handler, after this middleware
            raise
        finally:
            usage = scope.get("state", {}).get(USAGE_KEY, {})
            logger.info(
                "%s %s %s %.0f ms prompt_tokens=%s completion_tokens=%s", scope["method"], scope["path"],
                status or "-", 1000 * (time.perf_counter() - start), usage.get("prompt_tokens", "-"),
                usage.get("completion_tokens", "-"),
            )  # fmt: skip

    async def _guarded(self, scope: dict, receive: Callable, send: Callable) -> None:
        headers = dict(scope["headers"])
        if self.api_key is not None and not _bearer_ok(headers.get(b"authorization", b""), self.api_key):
            return await _error(401, "incorrect API key provided", code="invalid_api_key")(scope, receive, send)
        length = headers.get(b"content-length", b"0")
        if length.isdigit() and int(length) > self.max_body:
            too_large = _error(413, f"request body over {self.max_body} bytes", code="request_too_large")
            return await too_large(scope, receive, send)
        seen = 0
        deadline = time.monotonic() + self.body_timeout
        body_done = False

        async def counted() -> dict:
            nonlocal seen, body_done
            if body_done:  # after the body, receive() only reports a disconnect: no deadline on that wait
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                raise HTTPException(408, f"request body not received within {self.body_timeout:g} s",
                                    headers={"connection": "close"}) from None  # fmt: skip
            seen += len(message.get("body", b""))
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            if seen > self.max_body:  # a chunked body declares no length; count what arrives
                raise HTTPException(413, f"request body over {self.max_body} bytes")
            return message

        await self.app(scope, counted, send)


async def _cancel_on_disconnect(request: Request, cancel: threading.Event, future: Any) -> None:
    """Set `cancel` when the client of a non-streamed request hangs up, so its generation stops at the next
    token and frees its slot (a streamed one is cancelled when its response generator closes)."""
    while not future.done():
        if await request.is_disconnected():
            logger.info("%s: the client hung up; cancelling its generation", request.url.path)
            cancel.set()
            return
        await asyncio.sleep(DISCONNECT_POLL_S)


def _sampling(req: SamplingRequest, limit: int, stops: tuple[str, ...] = (), grammar: str | None = None
              ) -> SamplingParams:  # fmt: skip
    return SamplingParams(
        grammar=grammar,
        max_tokens=limit,
        temperature=1.0 if req.temperature is None else req.temperature,
        top_p=1.0 if req.top_p is None else req.top_p,
        n=req.n,
        stop=req.stop_list + tuple(s for s in stops if s not in req.stop_list),
        seed=req.seed,
    )


def _usage(gen: Generation) -> dict[str, int]:
    total = gen.prompt_tokens + gen.completion_tokens
    return {"prompt_tokens": gen.prompt_tokens, "completion_tokens": gen.completion_tokens, "total_tokens": total}


def _unknown_url(method: str, path: str) -> str:
    """The 404 message: OpenAI's own wording, what is served, and the way out for a Responses API client."""
    message = f"Invalid URL ({method} {path}): this server answers {ROUTES}"
    if path == "/v1/responses" or path.startswith("/v1/responses/"):
        message += ("; the Responses API is not served: use chat completions (openai-agents: "
                    'set_default_openai_api("chat_completions"))')  # fmt: skip
    return message


def _sse(obj: Any) -> str:
    return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"


def create_app(model: Any, tokenizer: Any, config: ServeConfig, generator: Generator | None = None) -> FastAPI:
    """The server app for a loaded model; `generator` replaces `HFGenerator(model, tokenizer)` (tests)."""
    gen = generator or HFGenerator(model, tokenizer)
    context = getattr(gen, "context_length", None)
    if config.max_model_len is not None:
        context = config.max_model_len if context is None else min(context, config.max_model_len)
    limiter = Limiter(config.max_concurrency, config.max_queue, config.queue_timeout)
    app = FastAPI(title="tooln1 serve", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(_Guard, api_key=config.api_key, max_body=config.max_body_bytes,
                       body_timeout=config.body_timeout)  # fmt: skip

    @app.exception_handler(ApiError)
    async def _api_error(_request: Any, e: ApiError) -> JSONResponse:
        return JSONResponse(e.body(), status_code=e.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Any, e: RequestValidationError) -> JSONResponse:
        errors = e.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": "invalid"}
        loc = [str(p) for p in first.get("loc", ()) if p != "body"]
        if first.get("type") == "json_invalid":
            reason = (first.get("ctx") or {}).get("error", "")
            return _error(400, f"request body is not valid JSON: {reason}".rstrip(": "), code="json_invalid")
        if not loc and first.get("type") in ("model_attributes_type", "dict_type", "model_type"):
            # the body itself has the wrong type: a JSON list, say, or form data from a bare `curl -d`
            return _error(400, "request body must be a JSON object (Content-Type: application/json)")
        msg = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        where = f"{'.'.join(loc)}: " if loc else ""
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return _error(400, f"{where}{msg}{more}", param=".".join(loc) or None, code=first.get("type"))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, e: HTTPException) -> JSONResponse:
        kind = "invalid_request_error" if e.status_code < 500 else "server_error"
        # No route raises a 404 itself: this one is the router's "no such path"
        message = _unknown_url(request.method, request.url.path) if e.status_code == 404 else str(e.detail)
        return JSONResponse(ApiError(e.status_code, message, kind).body(), e.status_code, headers=e.headers)

    @app.exception_handler(Exception)
    async def _internal(_request: Any, e: Exception) -> JSONResponse:
        # Starlette re-raises after sending this, so uvicorn logs the traceback (server side only).
        return _error(500, f"internal server error: {type(e).__name__}", "server_error")

    def token_limit(req: SamplingRequest, prompt: str) -> int:
        """The request's max_tokens (default: all the room left) within the cap and the context, else a 400."""
        prompt_tokens = gen.count_tokens(prompt)
        room = config.max_tokens_cap if context is None else min(config.max_tokens_cap, context - prompt_tokens)
        asked = req.token_limit
        if asked is not None and asked > config.max_tokens_cap:
            raise ApiError(400, f"max_tokens is capped at {config.max_tokens_cap}", param="max_tokens")
        if room < 1 or (asked is not None and asked > room):
            where = "messages" if isinstance(req, ChatCompletionRequest) else "prompt"
            raise ApiError(
                400, f"prompt ({prompt_tokens} tokens) plus max_tokens exceeds the context ({context})",
                param=where, code="context_length_exceeded",
            )  # fmt: skip
        return asked or room

    async def run(
        request: Request,
        req: SamplingRequest,
        prompt: str,
        stream_events: Callable[..., AsyncIterator[str]] | None,
        stops: tuple[str, ...] = (),
        grammar: str | None = None,
    ) -> Generation | StreamingResponse:
        params = _sampling(req, token_limit(req, prompt), stops, grammar)
        cancel = threading.Event()
        if stream_events is None:
            future = await limiter.submit(lambda: gen.generate(prompt, params, None, cancel))
            watcher = asyncio.ensure_future(_cancel_on_disconnect(request, cancel, future))
            try:
                out = await _result(future)
            finally:
                watcher.cancel()
            request.state.tooln1_usage = _usage(out)
            return out
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()

        def on_text(index: int, delta: str) -> None:
            _call_soon(loop, queue.put_nowait, (index, delta))

        future = await limiter.submit(lambda: gen.generate(prompt, params, on_text, cancel))
        future.add_done_callback(lambda _: _call_soon(loop, queue.put_nowait, None))

        async def deltas() -> AsyncIterator[tuple[int, str]]:
            while (item := await queue.get()) is not None:
                yield item

        async def body() -> AsyncIterator[str]:
            try:
                try:
                    async for event in stream_events(deltas(), future):
                        yield event
                except Exception as e:  # the status line is sent already: report in-band, as vLLM does
                    if not isinstance(e, ApiError):
                        logger.exception("streaming failed")
                    err = e if isinstance(e, ApiError) else ApiError(500, f"internal error: {type(e).__name__}",
                                                                     "server_error")  # fmt: skip
                    yield _sse(err.body())
                yield "data: [DONE]\n\n"
            finally:
                cancel.set()  # a client that hung up stops its generation at the next token
                if future.done() and not future.cancelled() and future.exception() is None:
                    request.state.tooln1_usage = _usage(future.result())

        return StreamingResponse(body(), media_type="text/event-stream")

    def envelope(prefix: str, obj: str) -> dict[str, Any]:
        return {"id": f"{prefix}-{uuid.uuid4().hex}", "object": obj, "created": int(time.time()),
                "model": config.model_name}  # fmt: skip

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        card = {"id": config.model_name, "object": "model", "created": int(time.time()), "owned_by": "tooln1"}
        return {"object": "list", "data": [card]}

    @app.post("/v1/completions", response_model=None)
    async def completions(req: CompletionRequest, request: Request) -> Any:
        head = envelope("cmpl", "text_completion")

        async def events(deltas: AsyncIterator[tuple[int, str]], future: Any) -> AsyncIterator[str]:
            async for index, delta in deltas:
                yield _sse({**head, "choices": [{"index": index, "text": delta, "finish_reason": None}]})
            out = await _result(future)
            for i, reason in enumerate(out.finish_reasons):
                yield _sse({**head, "choices": [{"index": i, "text": "", "finish_reason": reason}]})
            if req.include_usage:
                yield _sse({**head, "choices": [], "usage": _usage(out)})

        out = await run(request, req, req.prompt, events if req.stream else None)
        if isinstance(out, StreamingResponse):
            return out
        choices = [{"index": i, "text": t, "finish_reason": r, "logprobs": None}
                   for i, (t, r) in enumerate(zip(out.texts, out.finish_reasons, strict=True))]  # fmt: skip
        return {**head, "choices": choices, "usage": _usage(out)}

    @app.post("/v1/chat/completions", response_model=None)
    async def chat_completions(req: ChatCompletionRequest, request: Request) -> Any:
        head = envelope("chatcmpl", "chat.completion.chunk")
        tools = req.uses_tools
        prompt = chat_prompt(req, tokenizer, config.template)
        grammar = request_grammar(req)
        if grammar is not None:
            if not hasattr(gen, "n_vocab"):
                raise ApiError(400, "this server's generator cannot constrain decoding", param="tool_choice")
            check_grammar(grammar, tokenizer, gen.n_vocab, tuple(sorted(gen.eos)))

        def chunk(index: int, delta: dict[str, Any], reason: str | None = None) -> str:
            return _sse({**head, "choices": [{"index": index, "delta": delta, "finish_reason": reason}]})

        async def events(deltas: AsyncIterator[tuple[int, str]], future: Any) -> AsyncIterator[str]:
            streams = [ReplyStream(tools) for _ in range(req.n)]
            for i in range(req.n):
                yield chunk(i, {"role": "assistant", "content": ""})
            async for index, delta in deltas:
                for field, piece in streams[index].feed(delta):
                    yield chunk(index, {field: piece})
            out = await _result(future)
            for i, stream in enumerate(streams):
                pieces, reply = stream.finish()
                reply = apply_call_policy(reply, req)
                for field, piece in pieces:
                    yield chunk(i, {field: piece})
                if tools and reply.content:
                    yield chunk(i, {"content": reply.content})
                if reply.calls:
                    yield chunk(i, {"tool_calls": [{"index": k, **c} for k, c in enumerate(reply.calls)]})
                yield chunk(i, {}, "tool_calls" if reply.calls else out.finish_reasons[i])
            if req.include_usage:
                yield _sse({**head, "choices": [], "usage": _usage(out)})

        out = await run(request, req, prompt, events if req.stream else None, turn_stops(tokenizer), grammar)
        if isinstance(out, StreamingResponse):
            return out
        choices = []
        for i, (text, reason) in enumerate(zip(out.texts, out.finish_reasons, strict=True)):
            reply = apply_call_policy(parse_reply(text, tools), req)
            choices.append({"index": i, "message": reply.message(), "logprobs": None,
                            "finish_reason": "tool_calls" if reply.calls else reason})  # fmt: skip
        return {**head, "object": "chat.completion", "choices": choices, "usage": _usage(out)}

    return app

"""`tooln1 serve`: a Tool-N1-trained model behind an OpenAI-compatible tool-calling endpoint.

Example:
    $ tooln1 serve --model runs/grpo --port 8000
    ... tooln1.serve.server: ready: http://127.0.0.1:8000/v1 serving 'runs/grpo' (1 generation(s) at a time)
    $ curl -s http://127.0.0.1:8000/v1/models
    {"object": "list", "data": [{"id": "runs/grpo", "object": "model", ...}]}

Any OpenAI client then works against `base_url="http://127.0.0.1:8000/v1"`; a request with `tools` gets
`tool_calls` back (see `tooln1.serve.chat`). It listens on 127.0.0.1 unless `--host` says otherwise; `--api-key`
(or $TOOLN1_API_KEY, which keeps the key out of the process list) makes every route require that bearer token.
`--port 0` takes a free port and names it in the "ready" line. The command binds the port before loading the
model, so a port in use fails at once.

This module only parses arguments; FastAPI, uvicorn and torch are imported when the command runs, so that
`tooln1 --help` stays fast.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os

from tooln1.errors import UserError

logger = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve a model as an OpenAI-compatible tool-calling endpoint")
    p.add_argument("--model", default="bundled", help="model folder, hub id or 'bundled' (default: bundled)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 = any free port)")
    p.add_argument("--api-key", default=os.environ.get("TOOLN1_API_KEY"),
                   help="require this bearer token (default: $TOOLN1_API_KEY, else no check)")  # fmt: skip
    p.add_argument("--trust-remote-code", action="store_true", help="allow a model folder's own Python code "
                   "(an auto_map in its config); refused by default, since loading would run it")  # fmt: skip
    p.add_argument("--served-model-name", help="model id shown by /v1/models and in replies (default: --model)")
    p.add_argument("--max-concurrency", type=int, default=1, help="generations at once (default: 1)")
    p.add_argument("--max-queue", type=int, default=32, help="requests waiting for a slot; more get 429 (default: 32)")
    p.add_argument("--queue-timeout", type=float, default=60.0,
                   help="seconds a request may wait for a slot before a 503 (default: 60)")  # fmt: skip
    p.add_argument("--max-tokens-cap", type=int, default=2048,
                   help="largest max_tokens accepted, also the default (default: 2048)")  # fmt: skip
    p.add_argument("--max-body-bytes", type=int, default=1_000_000, help="largest request body (default: 1000000)")
    p.add_argument("--body-timeout", type=float, default=10.0,
                   help="seconds a client may take to send a whole request body, then 408 (default: 10)")  # fmt: skip
    p.add_argument("--max-model-len", type=int, help="context bound (prompt + completion tokens) below the "
                   "model's; a longer request is a 400 context_length_exceeded (default: the model's)")  # fmt: skip
    p.add_argument("--prompt-file", help="YAML prompt wording (preamble/instructions) the model was trained with")
    # float32 by default (exact); comparing with `tooln1 eval --backend hf` needs the same --dtype on both sides.
    p.add_argument("--dtype", choices=("float32", "bfloat16", "float16", "fast"), default="float32",
                   help="weights dtype (default: float32; fast: bfloat16 where the hardware computes it natively, "
                        "else float32)")  # fmt: skip
    p.set_defaults(func=run)


def _check(args: argparse.Namespace) -> None:
    if not 0 <= args.port <= 65535:
        raise UserError(f"--port must be 0..65535, got {args.port}")
    for name in ("max_concurrency", "max_tokens_cap", "max_body_bytes"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1")
    if args.max_model_len is not None and args.max_model_len < 2:
        raise UserError("--max-model-len must be at least 2")
    if args.body_timeout <= 0:
        raise UserError("--body-timeout must be > 0")
    if args.max_queue < 0 or args.queue_timeout <= 0:
        raise UserError("--max-queue must be >= 0 and --queue-timeout > 0")
    if args.api_key is not None and not args.api_key.strip():
        raise UserError("--api-key is empty")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def run(args: argparse.Namespace) -> int:
    _check(args)
    from tooln1.serve.server import Server, listen

    sock = listen(args.host, args.port)  # before the slow model load: a taken port fails at once
    if not _is_loopback(args.host) and args.api_key is None:
        logger.warning("listening on %s without --api-key: anyone who can reach it can use the model", args.host)

    import torch

    from tooln1.model import load_model_and_tokenizer, resolve_dtype
    from tooln1.prompt import DEFAULT_TEMPLATE, PromptTemplate
    from tooln1.serve.app import ServeConfig, create_app

    template = PromptTemplate.from_file(args.prompt_file) if args.prompt_file else DEFAULT_TEMPLATE
    dtype = getattr(torch, resolve_dtype(args.dtype))
    model, tokenizer = load_model_and_tokenizer(args.model, dtype, args.trust_remote_code)
    if torch.cuda.is_available():
        model.to("cuda")
    config = ServeConfig(
        model_name=args.served_model_name or args.model,
        api_key=args.api_key,
        max_concurrency=args.max_concurrency,
        max_queue=args.max_queue,
        queue_timeout=args.queue_timeout,
        max_tokens_cap=args.max_tokens_cap,
        max_body_bytes=args.max_body_bytes,
        body_timeout=args.body_timeout,
        max_model_len=args.max_model_len,
        template=template,
    )
    note = f" serving {config.model_name!r} ({config.max_concurrency} generation(s) at a time)"
    Server(create_app(model, tokenizer, config), sock, note).serve_forever()
    return 0

"""The `openai` backend: any OpenAI-compatible server, with bounded concurrency, timeouts and retries with backoff.

Two protocols (`api`):
- `completions` (default): our fully rendered prompt string goes to `POST {base_url}/completions`, as BFCL's own
  OSS handler does, so the server applies no chat template and sees exactly the text training used. Rendering
  needs the model's tokenizer (`tokenizer`: a local folder, a hub id, or "bundled"); when it cannot be loaded
  (a hosted model) the plain-text template `tooln1.prompt.PLAIN_CHAT_TEMPLATE` is used, with a warning.
- `chat`: our messages (`tooln1.prompt.build_messages`) go to `POST {base_url}/chat/completions`, for hosted
  models whose template only the server knows.

Failures: connection errors, timeouts, HTTP 408/409/429/5xx and answers that are not the expected JSON are retried
`retries` times with exponential backoff (`backoff`, 2×backoff, 4×backoff… seconds); other HTTP errors (a wrong
path, a bad request) stop at once. Either way the run stops with a one-line `UserError` naming the server and the
last failure, and every completion already yielded has been written by the runner, so a rerun resumes.

Example:
    >>> backend = OpenAIBackend("http://127.0.0.1:8000/v1", "bundled", GenSettings(64))  # doctest: +SKIP
    >>> dict(backend.generate([sample]))                                               # doctest: +SKIP
    {0: '<think>…</think><tool_call>[…]</tool_call>'}

An API key, if the server wants one, comes from the environment variable OPENAI_API_KEY.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from tooln1.errors import UserError
from tooln1.eval.backends import GenSettings
from tooln1.prompt import DEFAULT_TEMPLATE, PromptTemplate, build_messages, render_prompt
from tooln1.types import Sample

logger = logging.getLogger(__name__)

APIS = ("completions", "chat")
RETRY_STATUS = (408, 409, 429)


class _Retryable(Exception):
    """A failure worth another try (server down, overloaded, or an answer that is not what the API promises)."""


def load_tokenizer(name: str | None, trust_remote_code: bool = False) -> Any:
    """The tokenizer used to render prompts for `/completions`, or None (plain template) when it cannot load."""
    from tooln1.model import RemoteCodeRefused, resolve_model
    from tooln1.model import load_tokenizer as load

    try:
        return load(resolve_model(name, trust_remote_code), trust_remote_code)
    except RemoteCodeRefused:
        raise  # a folder with its own code is refused, not quietly replaced by the plain template
    except UserError as e:
        logger.warning("no tokenizer for %r (%s): rendering prompts with the plain-text template", name, e)
        return None


class OpenAIBackend:
    """Sends each sample as one request; up to `concurrency` requests in flight."""

    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        settings: GenSettings,
        api: str = "completions",
        tokenizer: Any = None,
        concurrency: int = 8,
        timeout: float = 120.0,
        retries: int = 4,
        backoff: float = 1.0,
        template: PromptTemplate = DEFAULT_TEMPLATE,
    ) -> None:
        if api not in APIS:
            raise UserError(f"unknown OpenAI API {api!r}; valid: {', '.join(APIS)}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.settings = settings
        self.api = api
        self.tokenizer = tokenizer
        self.concurrency = max(1, concurrency)
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.template = template
        self.api_key = os.environ.get("OPENAI_API_KEY")

    def _body(self, sample: Sample) -> tuple[str, dict[str, Any]]:
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.settings.max_new_tokens,
            "temperature": self.settings.temperature,
            "top_p": self.settings.top_p if self.settings.temperature > 0 else 1.0,
        }
        if self.api == "chat":
            return "/chat/completions", {**body, "messages": build_messages(sample, self.template)}
        return "/completions", {**body, "prompt": render_prompt(sample, self.tokenizer, self.template)}

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(self.base_url + path, data=json.dumps(body).encode(), headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            detail = e.read()[:200].decode("utf-8", "replace").strip()
            if e.code in RETRY_STATUS or e.code >= 500:
                raise _Retryable(f"HTTP {e.code}: {detail}") from None
            raise UserError(f"{self.base_url}{path}: HTTP {e.code}: {detail}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as e:
            raise _Retryable(f"{type(e).__name__}: {getattr(e, 'reason', e)}") from None
        try:
            return json.loads(raw)
        except ValueError:
            raise _Retryable(f"answer is not JSON: {raw[:80]!r}") from None

    def _text(self, data: Any) -> str:
        """The completion text of an answer; `_Retryable` when the answer lacks it (a garbage answer)."""
        try:
            choice = data["choices"][0]
            text = choice["message"]["content"] if self.api == "chat" else choice["text"]
        except (KeyError, IndexError, TypeError):
            raise _Retryable(f"answer has no completion text: {json.dumps(data)[:80]}") from None
        if not isinstance(text, str):
            raise _Retryable(f"completion text is {type(text).__name__}, not a string")
        return text

    def complete(self, sample: Sample) -> str:
        """One sample's completion, retried with exponential backoff; UserError after the last try."""
        path, body = self._body(sample)
        last = ""
        for attempt in range(self.retries + 1):
            try:
                return self._text(self._post(path, body))
            except _Retryable as e:
                last = str(e)
                if attempt < self.retries:
                    delay = self.backoff * 2**attempt
                    logger.warning("%s%s: %s; retrying in %.1fs", self.base_url, path, last, delay)
                    time.sleep(delay)
        raise UserError(
            f"{self.base_url}{path}: no usable answer after {self.retries + 1} tries (last: {last}); "
            "finished results are kept, rerun to resume"
        )

    def generate(self, samples: Sequence[Sample]) -> Iterator[tuple[int, str]]:
        # Submit lazily, keeping at most `concurrency` requests queued, so a failure stops the run promptly
        # instead of after every queued request has also timed out.
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="tooln1-openai")
        todo = iter(enumerate(samples))
        running: dict[Future[str], int] = {}
        try:
            while True:
                for i, sample in todo:
                    running[pool.submit(self.complete, sample)] = i
                    if len(running) >= self.concurrency:
                        break
                if not running:
                    return
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield running.pop(fut), fut.result()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

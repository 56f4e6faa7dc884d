"""Text generation behind the server: OpenAI sampling settings on `transformers` `model.generate`.

Example:
    >>> gen = HFGenerator(model, tokenizer)
    >>> out = gen.generate("User: hi\\n\\nAssistant:", SamplingParams(max_tokens=8, temperature=0.0))
    >>> out.texts[0] == tokenizer.decode(
    ...     model.generate(**tokenizer("User: hi\\n\\nAssistant:", return_tensors="pt"), do_sample=False,
    ...                    max_new_tokens=8)[0, out.prompt_tokens:], skip_special_tokens=True)
    True

Greedy decoding (temperature 0, as vLLM: below 1e-5) is exactly `model.generate(do_sample=False)` on
`tokenizer(prompt)`, decoded with `skip_special_tokens=True`; that is what makes `tooln1 eval --backend openai`
against this server agree with the local `hf` backend. The tokenizer adds its special tokens (the BOS) unless the
prompt text already starts with the BOS token, so a chat template that writes its own BOS is not doubled.

Sampling follows OpenAI's parameters: `temperature` and `top_p` (default 1 each). Other settings (repetition
penalty, EOS ids, a `top_k` the model's generation_config sets) come from the model, as vLLM does; an unset
`top_k` stays off instead of taking transformers' library default of 50, which OpenAI semantics do not have.
`seed` seeds torch's global generator right before generating: reproducible with one generation at a time
(`--max-concurrency 1`, the default); concurrent sampling requests share that generator.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

logger = logging.getLogger(__name__)

GREEDY_BELOW = 1e-5  # vLLM's threshold: a temperature under it means greedy decoding

OnText = Callable[[int, str], None]  # (choice index, text delta), called from the generating thread


@dataclass(frozen=True)
class SamplingParams:
    max_tokens: int
    temperature: float = 1.0
    top_p: float = 1.0
    n: int = 1
    stop: tuple[str, ...] = ()
    seed: int | None = None
    grammar: str | None = None  # a Lark grammar the text must follow (tooln1.serve.constrain)

    @property
    def greedy(self) -> bool:
        return self.temperature < GREEDY_BELOW


@dataclass(frozen=True)
class Generation:
    """n generated texts (stop strings cut off), why each ended ("stop" or "length"), and token counts."""

    texts: list[str]
    finish_reasons: list[str]
    prompt_tokens: int
    completion_tokens: int


class Generator(Protocol):
    """What the server needs from a model; tests inject fakes with the same two methods."""

    def count_tokens(self, prompt: str) -> int: ...

    def generate(
        self,
        prompt: str,
        params: SamplingParams,
        on_text: OnText | None = None,
        cancel: threading.Event | None = None,
    ) -> Generation: ...


class _Rows:
    """Follows each generated row token by token, as both the streamer and a stopping criterion of `generate`.

    It decodes each row after every token, cuts it at the first stop string, and hands out text that can no
    longer change: a tail that may still grow into a stop string, or an unfinished UTF-8 character, is held.
    """

    def __init__(self, tokenizer: Any, rows: int, stop: tuple[str, ...], eos: set[int], on_text: OnText | None,
                 cancel: threading.Event | None):  # fmt: skip
        self.tokenizer, self.stop, self.eos, self.on_text, self.cancel = tokenizer, stop, eos, on_text, cancel
        self.hold = max((len(s) for s in stop), default=1) - 1
        self.tokens: list[list[int]] = [[] for _ in range(rows)]
        self.texts = [""] * rows
        self.sent = [0] * rows
        self.stopped = [False] * rows
        self.prompt_seen = False

    # streamer side (transformers calls put() with the prompt once, then with one token per row per step)
    def put(self, value: Any) -> None:
        if not self.prompt_seen:
            self.prompt_seen = True
            return
        for row, token in enumerate(value.view(-1).tolist()):
            if not self.stopped[row]:
                self.tokens[row].append(token)
                self.stopped[row] = token in self.eos
                self._update(row)

    def end(self) -> None:
        for row in range(len(self.tokens)):
            self._update(row, final=True)

    # stopping-criterion side
    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        if self.cancel is not None and self.cancel.is_set():
            return torch.ones(len(self.tokens), dtype=torch.bool)
        return torch.tensor(self.stopped, dtype=torch.bool)

    def _update(self, row: int, final: bool = False) -> None:
        text = self.tokenizer.decode(self.tokens[row], skip_special_tokens=True)
        cuts = [i for i in (text.find(s) for s in self.stop) if i >= 0]
        if cuts:
            text = text[: min(cuts)]
            self.stopped[row] = True
        self.texts[row] = text
        if self.on_text is None:
            return
        ready = len(text) if final or self.stopped[row] else len(text.rstrip("\ufffd")) - self.hold
        if ready > self.sent[row]:
            self.on_text(row, text[self.sent[row] : ready])
            self.sent[row] = ready

    def finish_reason(self, row: int, max_tokens: int) -> str:
        return "length" if not self.stopped[row] and len(self.tokens[row]) >= max_tokens else "stop"


class HFGenerator:
    """A `Generator` over a transformers causal LM and its tokenizer (thread-safe for concurrent calls)."""

    def __init__(self, model: Any, tokenizer: Any):
        self.model, self.tokenizer = model, tokenizer
        eos = model.generation_config.eos_token_id
        eos = eos if isinstance(eos, list) else [eos] if eos is not None else [tokenizer.eos_token_id]
        self.eos = {int(e) for e in eos if e is not None}
        self.context_length: int | None = getattr(model.config, "max_position_embeddings", None)
        self.n_vocab: int = model.get_output_embeddings().weight.shape[0]

    def encode(self, prompt: str) -> list[int]:
        bos = self.tokenizer.bos_token
        add_special = not (bos and prompt.startswith(bos))
        return self.tokenizer(prompt, add_special_tokens=add_special)["input_ids"]

    def count_tokens(self, prompt: str) -> int:
        return len(self.encode(prompt))

    def generate(
        self,
        prompt: str,
        params: SamplingParams,
        on_text: OnText | None = None,
        cancel: threading.Event | None = None,
    ) -> Generation:
        import torch

        ids = torch.tensor([self.encode(prompt)], device=self.model.device)
        # Greedy choices are identical, so one row is generated and repeated (transformers refuses greedy n > 1).
        rows = 1 if params.greedy else params.n

        def every_choice(_row: int, delta: str) -> None:  # the one greedy row speaks for all n choices
            for i in range(params.n):
                on_text(i, delta)

        emit = every_choice if on_text is not None and rows < params.n else on_text
        tracker = _Rows(self.tokenizer, rows, params.stop, self.eos, emit, cancel)
        kwargs: dict[str, Any] = {"do_sample": False}
        if not params.greedy:
            kwargs = {"do_sample": True, "temperature": params.temperature, "top_p": params.top_p,
                      "num_return_sequences": rows}  # fmt: skip
            if self.model.generation_config.top_k is None:
                kwargs["top_k"] = 0
        if params.grammar is not None:
            from tooln1.serve.constrain import GrammarLogitsProcessor

            kwargs["logits_processor"] = [GrammarLogitsProcessor(params.grammar, self.tokenizer, self.n_vocab,
                                                                 tuple(sorted(self.eos)), rows)]  # fmt: skip
        if params.seed is not None:
            torch.manual_seed(params.seed)
        with torch.inference_mode():
            self.model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=params.max_tokens,
                streamer=tracker,
                stopping_criteria=[tracker],
                **kwargs,
            )
        repeat = params.n if rows == 1 else 1
        return Generation(
            texts=tracker.texts * repeat,
            finish_reasons=[tracker.finish_reason(r, params.max_tokens) for r in range(rows)] * repeat,
            prompt_tokens=ids.shape[1],
            completion_tokens=sum(len(t) for t in tracker.tokens) * repeat,
        )

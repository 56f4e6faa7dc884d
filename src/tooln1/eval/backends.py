"""Local generation backends: `hf` (transformers, batched) and `vllm` (GPU, optional), with shared settings.

A backend turns `Sample`s into completions. `generate(samples)` yields `(index, completion)` pairs as they
finish, in any order, so the runner can write each result at once (an interrupt loses at most one batch).
Every backend renders prompts with `tooln1.prompt.render_prompt`, the same text training uses.

Example:
    >>> settings = GenSettings(max_new_tokens=64, batch_size=4)
    >>> settings.sampling_kwargs()
    {'do_sample': False}
    >>> backend = HFBackend("bundled", settings)            # doctest: +SKIP
    >>> dict(backend.generate([sample]))                     # doctest: +SKIP
    {0: '<think>…</think><tool_call>[…]</tool_call>'}

`hf`: prompts are tokenized once, sorted by length (longest first, so a batch that does not fit fails at once and
padding stays small), left-padded, prefilled through the backbone once (`tooln1.generation`) and generated
greedily by default. Tokenization adds the tokenizer's BOS unless
the rendered text already starts with it, which is what `/v1/completions` servers (vLLM) do with a prompt string,
so `hf`, `vllm` and `openai` see the same tokens. The default dtype is `fast` (`tooln1.model.resolve_dtype`):
bfloat16 on a GPU (BFCL's own vLLM launch uses bfloat16 too) and on a CPU that computes it natively, where it
samples about twice as fast as fp32 (cpu_measurements.md §2); float32 on a CPU that would only emulate it, where
bf16 took 2.8x as long to prefill and 1.7x as long per decode step at batch 16 (benchmarks/bench_dtype.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from tooln1.errors import UserError
from tooln1.prompt import DEFAULT_TEMPLATE, PLAIN_CHAT_TEMPLATE, PromptTemplate, render_prompt
from tooln1.types import Sample

DTYPES = ("bfloat16", "float32", "float16", "fast")  # fast: tooln1.model.resolve_dtype


@dataclass(frozen=True)
class GenSettings:
    """Generation settings shared by every backend. `temperature` 0 means greedy decoding."""

    max_new_tokens: int = 512
    temperature: float = 0.0
    top_p: float = 1.0
    batch_size: int = 8
    seed: int = 0
    # Extra strings that end a completion (hf backend), e.g. "\n\n", the turn end of the plain chat template, which
    # a base model without an end-of-turn token would otherwise run past into invented turns (as training's
    # `stop_tokens` does; a trained model saves those ids as EOS in its generation config). Left empty, a model on
    # the plain template gets "\n\n" (HFBackend._attach).
    stop: tuple[str, ...] = ()

    def sampling_kwargs(self) -> dict[str, Any]:
        """transformers `generate` kwargs: greedy unless a temperature is set."""
        if self.temperature <= 0:
            return {"do_sample": False}
        return {"do_sample": True, "temperature": self.temperature, "top_p": self.top_p, "top_k": 0}


class Backend(Protocol):
    """What the runner needs from a backend."""

    name: str

    def generate(self, samples: Sequence[Sample]) -> Iterator[tuple[int, str]]:
        """Yield `(index into samples, completion text)` as completions finish."""
        ...


def count_new_tokens(row: list[int], eos_ids: set[int]) -> int:
    """Generated tokens in one output row: up to and including the first EOS (the rest is padding)."""
    for k, tok in enumerate(row):
        if tok in eos_ids:
            return k + 1
    return len(row)


class HFBackend:
    """transformers generation: batched, left-padded, length-sorted; `generated_tokens` counts real new tokens."""

    name = "hf"

    def __init__(
        self,
        model: str | None,
        settings: GenSettings,
        dtype: str = "fast",
        device: str | None = None,
        template: PromptTemplate = DEFAULT_TEMPLATE,
        trust_remote_code: bool = False,
    ) -> None:
        import torch

        from tooln1.model import load_model_and_tokenizer, resolve_dtype

        if dtype not in DTYPES:
            raise UserError(f"unknown dtype {dtype!r}; valid: {', '.join(DTYPES)}")
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        loaded, tokenizer = load_model_and_tokenizer(model, getattr(torch, resolve_dtype(dtype, device)),
                                                     trust_remote_code)  # fmt: skip
        loaded.to(device)
        self._attach(loaded, tokenizer, settings, template)

    @classmethod
    def from_loaded(
        cls, model: Any, tokenizer: Any, settings: GenSettings, template: PromptTemplate = DEFAULT_TEMPLATE
    ) -> HFBackend:
        """A backend over a model already in memory (e.g. the policy being trained, for held-out probes)."""
        backend = cls.__new__(cls)
        backend._attach(model, tokenizer, settings, template)
        return backend

    def _attach(self, model: Any, tokenizer: Any, settings: GenSettings, template: PromptTemplate) -> None:
        if not settings.stop and tokenizer.chat_template in (None, "", PLAIN_CHAT_TEMPLATE):
            # The plain template ends every turn with a blank line and a base model has no end-of-turn token:
            # without this stop it writes the next "User:" turn up to max_new_tokens (a multi-turn BFCL episode of
            # the bundled model took 7.7 minutes for two such replies), and the parser could read a call from a
            # turn the model invented. The Tool-N1 reply itself never needs a blank line.
            settings = replace(settings, stop=("\n\n",))
        self.settings = settings
        self.template = template
        self.model, self.tokenizer = model, tokenizer
        eos = self.model.generation_config.eos_token_id
        eos = eos if isinstance(eos, list) else [eos if eos is not None else self.tokenizer.eos_token_id]
        self.eos_ids = set(eos)
        self.generated_tokens = 0

    def encode(self, sample: Sample) -> list[int]:
        """Token ids of the rendered prompt (BOS added unless the chat template already wrote it)."""
        text = render_prompt(sample, self.tokenizer, self.template)
        bos = self.tokenizer.bos_token
        return self.tokenizer(text, add_special_tokens=not (bos and text.startswith(bos)))["input_ids"]

    def stop_kwargs(self) -> dict[str, Any]:
        """transformers `generate` kwargs for the extra stop strings (they need the tokenizer)."""
        return {"stop_strings": list(self.settings.stop), "tokenizer": self.tokenizer} if self.settings.stop else {}

    def generate_ids(self, batch: list[list[int]]) -> list[str]:
        """One batched generation on token-id prompts (`tooln1.generation.prefilled_generate`); new text per prompt."""
        import torch

        from tooln1.generation import prefilled_generate

        if self.settings.temperature > 0:
            torch.manual_seed(self.settings.seed)
        new = prefilled_generate(
            self.model, batch, 1, None, self.tokenizer.pad_token_id,
            max_new_tokens=self.settings.max_new_tokens,
            pad_token_id=self.tokenizer.pad_token_id,
            # Explicit: transformers' Trainer sets `model.config.use_cache = False` on the model it trains, and
            # the held-out probe generates with that very model (tooln1.train.probe).
            use_cache=True,
            **self.settings.sampling_kwargs(),
            **self.stop_kwargs(),
        )  # fmt: skip
        self.generated_tokens += sum(count_new_tokens(row, self.eos_ids) for row in new)
        return self.tokenizer.batch_decode(new, skip_special_tokens=True)

    def generate(self, samples: Sequence[Sample]) -> Iterator[tuple[int, str]]:
        ids = [self.encode(s) for s in samples]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]), reverse=True)
        size = max(1, self.settings.batch_size)
        for start in range(0, len(order), size):
            chunk = order[start : start + size]
            yield from zip(chunk, self.generate_ids([ids[i] for i in chunk]), strict=True)


class VLLMBackend:
    """vLLM offline generation (GPU). Prompts go through in chunks so results reach disk as each chunk ends."""

    name = "vllm"
    chunk = 256

    def __init__(
        self,
        model: str | None,
        settings: GenSettings,
        dtype: str = "fast",
        tensor_parallel_size: int = 1,
        template: PromptTemplate = DEFAULT_TEMPLATE,
        trust_remote_code: bool = False,
    ) -> None:
        try:
            from vllm import LLM, SamplingParams
        except ImportError:
            raise UserError(
                "the vllm backend needs vLLM, which is not installed: pip install 'tooln1[vllm]' (GPU machines only)"
            ) from None
        from tooln1.model import resolve_dtype, resolve_model

        self.template = template
        self.llm = LLM(
            model=resolve_model(model, trust_remote_code), dtype=resolve_dtype(dtype, "cuda"), seed=settings.seed,
            tensor_parallel_size=tensor_parallel_size, trust_remote_code=trust_remote_code,
        )  # fmt: skip
        self.tokenizer = self.llm.get_tokenizer()
        self.params = SamplingParams(
            temperature=settings.temperature,
            top_p=settings.top_p if settings.temperature > 0 else 1.0,
            max_tokens=settings.max_new_tokens,
            seed=settings.seed,
        )

    def generate(self, samples: Sequence[Sample]) -> Iterator[tuple[int, str]]:
        prompts = [render_prompt(s, self.tokenizer, self.template) for s in samples]
        for start in range(0, len(prompts), self.chunk):
            outs = self.llm.generate(prompts[start : start + self.chunk], self.params, use_tqdm=False)
            for k, out in enumerate(outs):
                yield start + k, out.outputs[0].text

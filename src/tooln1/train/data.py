"""Training data: `Sample` JSONL -> the string-prompt datasets TRL consumes.

GRPO rows: `prompt` (the sample's own tools rendered into its system text, then the chat template with a
generation prompt) and `ground_truth` (the gold calls as a JSON string, the column `TrlReward` reads). SFT rows:
`prompt` and `completion`, so SFTTrainer puts the loss on the completion only.

Example:
    >>> from tooln1.types import Sample, ToolCall
    >>> s = Sample("a", "synth", [{"name": "f", "parameters": {}}], [{"role": "user", "content": "do f"}],
    ...            [ToolCall("f", {})])
    >>> sft_completion(s, "think")
    '<think>The request is served by f.</think>\\n<tool_call>[{"name": "f", "arguments": {}}]</tool_call>'
    >>> sft_completion(s, "no_think")
    '<tool_call>[{"name": "f", "arguments": {}}]</tool_call>'

Every prompt is a plain string rendered by `tooln1.prompt.render_prompt`, so the bundled model's plain template and
any HF chat template go through one code path, and TRL's global `tools=` is never used (each sample has its own).
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from tooln1.errors import UserError
from tooln1.prompt import PromptTemplate, canonical_completion, format_calls, render_prompt
from tooln1.types import Sample, calls_to_json

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("id", "source", "tools", "messages", "gold")

# The paper's "No-Reason SFT" prompt (method §1.8): the think step is removed from the instructions, and so is
# the think part of the example. Our own wording, parallel to tooln1.prompt.DEFAULT_INSTRUCTIONS.
NO_THINK_INSTRUCTIONS = (
    "In every reply you must give the calls as ONE JSON list inside <tool_call></tool_call> XML tags, i.e. "
    '<tool_call>[{"name": <function-name>, "arguments": <args-json-object>}, ...]</tool_call>. '
    "If no function should be called, give an empty list: <tool_call>[]</tool_call>.\n"
    'Example of a complete reply: <tool_call>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_call>\n'
    "Give every argument the exact type the function expects.\n"
)


def data_file(path: str | Path) -> Path:
    """The samples file: `path` itself, or `path/train.jsonl` for a `tooln1 data` output folder."""
    p = Path(path)
    f = p / "train.jsonl" if p.is_dir() else p
    if not f.is_file():
        raise UserError(f"training data not found: {f}")
    return f


def read_samples(path: str | Path, limit: int | None = None) -> list[Sample]:
    """Read `Sample` JSON lines; a line without a required column is a UserError naming the column and line."""
    f = data_file(path)
    samples: list[Sample] = []
    with f.open(encoding="utf-8") as lines:
        for lineno, line in enumerate(lines, start=1):
            if limit is not None and len(samples) >= limit:
                break
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise UserError(f"{f}:{lineno}: invalid JSON: {e}") from None
            if not isinstance(row, dict):
                raise UserError(f"{f}:{lineno}: a sample must be a JSON object")
            missing = [c for c in REQUIRED_COLUMNS if c not in row]
            if missing:
                raise UserError(f"{f}:{lineno}: missing required column '{missing[0]}' (required: "
                                f"{', '.join(REQUIRED_COLUMNS)})")  # fmt: skip
            try:
                samples.append(Sample.from_dict(row))
            except (TypeError, ValueError) as e:
                raise UserError(f"{f}:{lineno}: malformed sample: {e}") from None
    if not samples:
        raise UserError(f"no samples in {f}")
    return samples


def with_calls(samples: list[Sample]) -> list[Sample]:
    """The samples whose gold has at least one call (`calls_only: true`); a UserError if none has."""
    kept = [s for s in samples if s.gold]
    if not kept:
        raise UserError("calls_only: every sample's gold is [] (no call)")
    logger.info("calls_only: training on %d of %d samples (%d with gold [] left out)", len(kept), len(samples),
                len(samples) - len(kept))  # fmt: skip
    return kept


def templated_reasoning(sample: Sample) -> str:
    """A short reasoning naming the functions to call, for `sft_target: think` when the data has none.

    Deviation (documented in the config): the paper's reason-SFT used distilled traces (method §1.8); synthetic
    samples have none, and a think-less SFT model could never earn the binary reward in a following RL stage.
    """
    names = list(dict.fromkeys(c.name for c in sample.gold))
    if not names:
        return "No function fits the request, so I make no call."
    return f"The request is served by {' and '.join(names)}."


def sft_completion(sample: Sample, target: str) -> str:
    """The SFT target text for a sample (without EOS): think + calls, or the no-reason variant (method §1.8)."""
    if target == "no_think" or (target == "auto" and not sample.reasoning):
        return format_calls(sample.gold)
    return canonical_completion(sample.gold, sample.reasoning or templated_reasoning(sample))


def on_token_boundary(prompt: str, completion: str, tokenizer: Any) -> str:
    """`completion`, or " " + `completion` when its first characters would merge with the prompt's last token.

    TRL's SFTTrainer tokenizes prompt + completion as one text. With the plain template, "Assistant:" + "<think>"
    tokenizes as "Assistant", ":<", "think", ">": the model would learn ":<", a token it never sees at inference,
    where the prompt alone ends in ":" and it must write "<" itself; it then never opens its <think>. With a leading
    space the sequence is ":", " <", "think", ">" in training and inference alike (" <" is also what the base model
    writes after a colon). The space changes no score: the reward's checks are substring and JSON based.
    """
    prompt_ids = tokenizer(prompt).input_ids
    for text in (completion, " " + completion):
        if tokenizer(prompt + text).input_ids[: len(prompt_ids)] == prompt_ids:
            return text
    logger.warning("prompt and completion share a token however they are joined: %r", prompt[-20:] + completion[:20])
    return completion


def _adds_bos(tokenizer: Any) -> bool:
    bos = tokenizer.bos_token_id
    return bos is not None and tokenizer("x").input_ids[:1] == [bos]


def _prompts(samples: list[Sample], templates: list[PromptTemplate], tokenizer: Any) -> list[str]:
    """Render prompts; drop a BOS the chat template wrote when the tokenizer adds one too (Llama-3 style)."""
    prompts = [render_prompt(s, tokenizer, t) for s, t in zip(samples, templates, strict=True)]
    bos = tokenizer.bos_token
    if bos and _adds_bos(tokenizer):
        prompts = [p[len(bos):] if p.startswith(bos) else p for p in prompts]
    return prompts


def _keep_short(prompts: list[str], tokenizer: Any, max_tokens: int) -> list[bool]:
    """Which prompts fit in `max_tokens` tokens, counted as TRL tokenizes them (special tokens included)."""
    lengths = [len(ids) for ids in tokenizer(prompts)["input_ids"]]
    return [n <= max_tokens for n in lengths]


def build_dataset(
    samples: list[Sample],
    tokenizer: Any,
    mode: str,
    template: PromptTemplate,
    max_prompt_tokens: int,
    sft_target: str = "auto",
) -> tuple[Any, dict[str, int]]:
    """The TRL dataset for `mode` ("grpo" or "sft") and a small report {samples, kept, dropped_long_prompt}.

    Prompts longer than `max_prompt_tokens` are dropped here (method §4.2; TRL 1.16 no longer truncates prompts).
    """
    from datasets import Dataset

    if mode == "sft":
        no_think = replace(template, instructions=NO_THINK_INSTRUCTIONS)
        targets = [sft_completion(s, sft_target) for s in samples]
        templates = [template if t.startswith("<think>") else no_think for t in targets]
    else:
        templates = [template] * len(samples)
    prompts = _prompts(samples, templates, tokenizer)
    keep = _keep_short(prompts, tokenizer, max_prompt_tokens)
    rows: dict[str, list[str]] = {"prompt": [p for p, k in zip(prompts, keep, strict=True) if k]}
    kept = [s for s, k in zip(samples, keep, strict=True) if k]
    if mode == "sft":
        # The EOS teaches the model to stop after the call (TRL would also append it when missing).
        eos = tokenizer.eos_token or ""
        rows["completion"] = [on_token_boundary(p, t, tokenizer) + eos
                              for p, t, k in zip(prompts, targets, keep, strict=True) if k]  # fmt: skip
    else:
        rows["ground_truth"] = [calls_to_json(s.gold) for s in kept]
    report = {"samples": len(samples), "kept": len(kept), "dropped_long_prompt": len(samples) - len(kept)}
    if not kept:
        raise UserError(f"every prompt is longer than max_prompt_tokens={max_prompt_tokens}")
    if report["dropped_long_prompt"]:
        logger.info("dropped %d of %d prompts longer than %d tokens", report["dropped_long_prompt"], len(samples),
                    max_prompt_tokens)  # fmt: skip
    return Dataset.from_dict(rows), report


def load_prompt_template(prompt_file: str | None) -> PromptTemplate:
    return PromptTemplate.from_file(prompt_file) if prompt_file else PromptTemplate()

"""Sample-level filters of method §1.4 step 6 and §1.6, each returning a reason code from `records`.

- `tools:empty`: no tool to call.
- `call:unknown_tool`: a gold call names a tool absent from the tool list (skipped for sources whose adapter sets
  `CHECK_TOOL_MEMBERSHIP = False`, i.e. xLAM, as in the paper).
- `sample:duplicate`: same tools, history and gold as an earlier sample (ids and sources ignored).
- `prompt:too_long`: the rendered prompt is longer than `--max-prompt-tokens` under a tokenizer (verl's
  `max_prompt_length` filter, §1.6; TRL never truncates prompts, so this is the only guard).

Example:
    >>> from tooln1.types import ToolCall
    >>> s = Sample("a", "x", [{"name": "f"}], [{"role": "user", "content": "hi"}], [ToolCall("g", {})])
    >>> sample_problem(s, check_membership=True)
    ('call:unknown_tool', 'g')
    >>> d = Deduper(); d.original(s), d.original(Sample("b", "y", s.tools, s.messages, s.gold))
    (None, 'a')
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from tooln1.data.records import EMPTY_TOOLS, UNKNOWN_TOOL
from tooln1.prompt import DEFAULT_TEMPLATE, PromptTemplate, render_prompt
from tooln1.types import Sample


def sample_problem(sample: Sample, check_membership: bool) -> tuple[str, str] | None:
    """(reason, detail) when the sample must be dropped, else None."""
    if not sample.tools:
        return EMPTY_TOOLS, "empty tool list"
    if check_membership:
        names = {t["name"] for t in sample.tools}
        unknown = [c.name for c in sample.gold if c.name not in names]
        if unknown:
            return UNKNOWN_TOOL, ", ".join(unknown)
    return None


class Deduper:
    """Remembers a digest of every sample's content (tools, history, gold) and finds exact repeats."""

    def __init__(self) -> None:
        self._first: dict[bytes, str] = {}

    def original(self, sample: Sample) -> str | None:
        """The id of an earlier sample with the same content, or None (and this sample is remembered)."""
        d = sample.to_dict()
        key = json.dumps([d["tools"], d["messages"], d["gold"]], sort_keys=True, ensure_ascii=False)
        digest = hashlib.blake2b(key.encode(), digest_size=16).digest()
        first = self._first.get(digest)
        if first is None:
            self._first[digest] = sample.id
        return first


def prompt_lengths(
    samples: Sequence[Sample], tokenizer: Any, template: PromptTemplate = DEFAULT_TEMPLATE, batch_size: int = 256
) -> list[int]:
    """Token count of each sample's full prompt (chat template included), tokenized in batches."""
    lengths: list[int] = []
    for start in range(0, len(samples), batch_size):
        texts = [render_prompt(s, tokenizer, template) for s in samples[start : start + batch_size]]
        ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
        lengths.extend(len(x) for x in ids)
    return lengths

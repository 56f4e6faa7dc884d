"""The `tooln1 data build` pipeline: read, convert, filter, augment, split (method §1), with a report of every drop.

Stages, in order:
1. each `--source NAME=REF` is read by its adapter's `load` and converted record by record; a record `convert`
   rejects is counted under its reason (or, with `strict`, stops the build with exit status 2 and its location);
2. sample filters: `tools:empty`, `call:unknown_tool` (not for xLAM, as in the paper), `sample:duplicate`
   (across all sources), then `prompt:too_long` when `max_prompt_tokens` is set;
3. optional augmentations (irrelevance, Hammer masking; off by default);
4. the split by dialogue (`split.split_by_dialog`).

Example:
    >>> from pathlib import Path; import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "x.jsonl"
    >>> _ = p.write_text('{"query": "hi", "tools": [{"name": "f"}], "answers": [{"name": "f", "arguments": {}}]}\\n')
    >>> splits, report = build([SourceSpec.parse(f"xlam={p}")], BuildOptions(test_fraction=0.0))
    >>> len(splits["train"]), report.sources["xlam"].kept
    (1, 1)
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType
from typing import Any

from tooln1 import safejson
from tooln1.data import SOURCES
from tooln1.data.augment import irrelevance_samples, mask_names
from tooln1.data.filters import Deduper, prompt_lengths, sample_problem
from tooln1.data.records import DUPLICATE, PROMPT_TOO_LONG, RECORD_UNPARSEABLE
from tooln1.data.report import BuildReport, SourceReport
from tooln1.data.split import split_by_dialog
from tooln1.errors import UserError
from tooln1.prompt import DEFAULT_TEMPLATE, PromptTemplate
from tooln1.safejson import JsonProblem
from tooln1.types import Sample

logger = logging.getLogger(__name__)

Located = tuple[Sample, str]  # a sample and where it came from (record location), for the report


@dataclass(frozen=True)
class SourceSpec:
    """One `--source NAME[=REF]`: an adapter name and a hub id or local path (default: the adapter's hub id)."""

    name: str
    ref: str

    @classmethod
    def parse(cls, text: str) -> SourceSpec:
        name, _, ref = text.partition("=")
        name = name.strip()
        if name not in SOURCES:
            raise UserError(f"unknown source {name!r}; valid sources: {', '.join(SOURCES)}")
        ref = ref.strip() or SOURCES[name].HUB_ID
        if not ref:
            raise UserError(f"source {name!r} has no default hub dataset; give {name}=PATH")
        return cls(name, ref)


@dataclass(frozen=True)
class BuildOptions:
    """Everything after conversion. Rates are shares in [0, 1]; 0 turns an augmentation off."""

    seed: int = 0
    test_fraction: float = 0.1
    max_prompt_tokens: int | None = None
    tokenizer: str | None = None  # model id or folder whose tokenizer counts prompt tokens; None = bundled
    strict: bool = False
    irrelevance: float = 0.0
    mask_names: float = 0.0
    template: PromptTemplate = DEFAULT_TEMPLATE
    # Our choice, not the paper's: the official preprocessing keeps exact repeats (xLAM has some). We drop them by
    # default, since a repeat weighs its task twice in GRPO and can sit on both sides of the train/test split; the
    # report's settings say which way a build went, and --keep-duplicates reproduces the paper.
    dedupe: bool = True

    def settings(self) -> dict[str, Any]:
        return {
            "seed": self.seed, "test_fraction": self.test_fraction, "max_prompt_tokens": self.max_prompt_tokens,
            "tokenizer": self.tokenizer, "irrelevance": self.irrelevance, "mask_names": self.mask_names,
            "dedupe": self.dedupe,
        }  # fmt: skip


def convert_records(
    adapter: ModuleType, records: Iterable[tuple[str, Any]], report: SourceReport, strict: bool, prefix: str = ""
) -> Iterator[Located]:
    """Convert raw records, counting rejects in `report`; `strict` turns the first reject into a UserError."""
    for row, (where, raw) in enumerate(records):
        report.read += 1
        try:
            if isinstance(raw, str):  # undecoded JSON text (a JSONL line, a JSON array element)
                raw = safejson.loads(raw, "")
            else:  # a parquet or hub row, decoded by pyarrow: the same depth and surrogate bounds apply
                safejson.check_value(raw, "record")
            samples = adapter.convert(raw, f"{prefix}{row}")
        except (JsonProblem, TypeError, AttributeError, KeyError, IndexError, ValueError, RecursionError) as e:
            # Decoding and adapters raise JsonProblem / BadRecord for every class they know; a record of an
            # unforeseen shape must not stop a 70k-row build either, so it is counted (exception type in the
            # report) like any unparseable record.
            known = isinstance(e, JsonProblem)
            reason = e.reason if known else RECORD_UNPARSEABLE
            detail = str(e) if known else f"{type(e).__name__}: {str(e)[:200]}"
            if strict:
                raise UserError(f"{where}: {reason}: {detail}") from None
            report.drop(reason, f"{where}: {detail}")
            continue
        if not samples:
            report.no_target += 1
        report.samples += len(samples)
        for s in samples:
            yield s, where if len(samples) == 1 else f"{where} ({s.id})"


def screen(
    located: Iterable[Located], report: SourceReport, check_membership: bool, deduper: Deduper | None
) -> Iterator[Located]:
    """Apply the tool-list, membership and duplicate filters (no `deduper`: keep repeats), counting drops."""
    for sample, where in located:
        problem = sample_problem(sample, check_membership)
        if problem is None and deduper is not None and (original := deduper.original(sample)) is not None:
            problem = DUPLICATE, f"{sample.id} repeats {original}"
        if problem is None:
            yield sample, where
        else:
            report.drop(problem[0], f"{where}: {problem[1]}")


@lru_cache(maxsize=2)
def load_tokenizer(ref: str | None) -> Any:
    """The tokenizer of a model id or folder (None = the bundled model); cached, as loading takes seconds."""
    from tooln1.model import load_tokenizer as load
    from tooln1.model import resolve_model

    return load(resolve_model(ref))  # a folder with its own code (auto_map) is refused


def finish(located: list[Located], report: BuildReport, options: BuildOptions) -> dict[str, list[Sample]]:
    """Length filter, augmentations and split of screened samples; fills the report's kept and split counts."""
    if options.max_prompt_tokens is not None:
        # Tokenization is the slow part of a build (excluded from the speed budget); batches keep it tolerable.
        tokenizer = load_tokenizer(options.tokenizer)
        lengths = prompt_lengths([s for s, _ in located], tokenizer, options.template)
        fits = []
        for (sample, where), n in zip(located, lengths, strict=True):
            if n <= options.max_prompt_tokens:
                fits.append((sample, where))
            else:
                report.source(sample.source).drop(PROMPT_TOO_LONG, f"{where}: {n} tokens")
        located = fits
    samples = [s for s, _ in located]
    for name, n in Counter(s.source for s in samples).items():
        report.source(name).kept += n
    rng = random.Random(options.seed)
    if options.irrelevance > 0:
        extra = irrelevance_samples(samples, options.irrelevance, rng)
        report.augmented["irrelevance"] = len(extra)
        samples += extra
    if options.mask_names > 0:
        samples = mask_names(samples, options.mask_names, rng)
        report.augmented["masked"] = sum(s.id.endswith("-masked") for s in samples)
    train, test = split_by_dialog(samples, options.test_fraction, options.seed)
    report.train, report.test = len(train), len(test)
    return {"train": train, "test": test}


def build(specs: list[SourceSpec], options: BuildOptions) -> tuple[dict[str, list[Sample]], BuildReport]:
    """Run the whole pipeline over `specs`; returns the splits and the report."""
    if not specs:
        raise UserError("give at least one --source NAME=PATH_OR_HUB_ID")
    report = BuildReport(settings=options.settings())
    deduper = Deduper() if options.dedupe else None
    located: list[Located] = []
    uses: Counter = Counter()
    for spec in specs:
        adapter = SOURCES[spec.name]
        prefix = f"{uses[spec.name]}." if uses[spec.name] else ""  # keeps ids unique across files of one source
        uses[spec.name] += 1
        src = report.source(spec.name)
        logger.info("reading %s from %s", spec.name, spec.ref)
        converted = convert_records(adapter, adapter.load(spec.ref), src, options.strict, prefix)
        located.extend(screen(converted, src, adapter.CHECK_TOOL_MEMBERSHIP, deduper))
    return finish(located, report, options), report


def build_from_samples(
    name: str, samples: list[Sample], options: BuildOptions
) -> tuple[dict[str, list[Sample]], BuildReport]:
    """The same filters, augmentations and split for samples made in memory (`tooln1 data synth`)."""
    report = BuildReport(settings=options.settings())
    src = report.source(name)
    src.read = src.samples = len(samples)
    located = list(screen(((s, f"{name}#{i}") for i, s in enumerate(samples)), src, True, Deduper()))
    return finish(located, report, options), report

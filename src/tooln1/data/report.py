"""The build report: per source, records read, samples made, kept, and every drop by reason with its first
locations; written to `DIR/report.json` and printed as a table.

Counting rules: `read` counts records. A record that decoding or `convert` rejects counts once under its record-level reason
(`records.RECORD_REASONS`: `record:unparseable`, `json:invalid`, `text:not_utf8`, `json:too_deep`, ...); a record that converts but has no call turn counts in
`no_target`. Every other record yields `samples`, each either kept or counted once under a sample-level reason
(`tools:empty`, `call:unknown_tool`, `sample:duplicate`, `prompt:too_long`). So, per source:
`read == record drops + no_target + records with samples` and `samples == kept + sample drops`.

Example:
    >>> r = SourceReport()
    >>> r.read, r.samples = 3, 2
    >>> r.drop("json:invalid", "rows.jsonl:2"); r.kept = 2
    >>> r.to_dict()["dropped"], r.to_dict()["examples"]
    ({'json:invalid': 1}, {'json:invalid': ['rows.jsonl:2']})
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MAX_EXAMPLES = 5


@dataclass
class SourceReport:
    """Counts of one source."""

    read: int = 0
    samples: int = 0
    kept: int = 0
    no_target: int = 0
    dropped: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def drop(self, reason: str, where: str) -> None:
        self.dropped[reason] += 1
        shown = self.examples.setdefault(reason, [])
        if len(shown) < MAX_EXAMPLES:
            shown.append(where)

    def to_dict(self) -> dict[str, Any]:
        return {
            "read": self.read, "samples": self.samples, "kept": self.kept, "no_target": self.no_target,
            "dropped": dict(sorted(self.dropped.items())), "examples": dict(sorted(self.examples.items())),
        }  # fmt: skip


@dataclass
class BuildReport:
    """The whole build: per-source counts, augmentations, split sizes and the settings that shaped them."""

    sources: dict[str, SourceReport] = field(default_factory=dict)
    augmented: dict[str, int] = field(default_factory=dict)
    train: int = 0
    test: int = 0
    settings: dict[str, Any] = field(default_factory=dict)

    def source(self, name: str) -> SourceReport:
        return self.sources.setdefault(name, SourceReport())

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": {name: r.to_dict() for name, r in self.sources.items()},
            "augmented": self.augmented,
            "splits": {"train": self.train, "test": self.test},
            "settings": self.settings,
        }

    def table(self) -> Any:
        """A rich Table of the report (one row per source, then a total)."""
        from rich.table import Table

        table = Table(title=f"tooln1 data: {self.train} train / {self.test} test samples")
        for col in ("source", "read", "no target", "samples", "kept", "dropped (reason: count)"):
            table.add_column(col, justify="left" if col in ("source", "dropped (reason: count)") else "right")
        total = SourceReport()
        for name, r in self.sources.items():
            table.add_row(name, *_cells(r))
            total.read, total.samples, total.kept = total.read + r.read, total.samples + r.samples, total.kept + r.kept
            total.no_target += r.no_target
            total.dropped.update(r.dropped)
        if len(self.sources) > 1:
            table.add_row("total", *_cells(total), style="bold")
        if self.augmented:
            table.caption = "augmented: " + ", ".join(f"{k} +{v}" for k, v in self.augmented.items())
        return table


def _cells(r: SourceReport) -> list[str]:
    dropped = ", ".join(f"{k}: {v}" for k, v in sorted(r.dropped.items())) or "-"
    return [str(r.read), str(r.no_target), str(r.samples), str(r.kept), dropped]

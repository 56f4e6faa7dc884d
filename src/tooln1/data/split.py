"""Deterministic train/test split by source dialogue.

Improvement over the paper: the official preprocessing shuffles *samples* with no seed and cuts 90/10
(method §1.6), so steps of one ToolACE dialogue can land on both sides and the test set leaks training
histories. Here whole dialogues (`Sample.dialog`) are shuffled with a seeded RNG and cut, so every step of a
dialogue stays on one side, and the same seed always gives the same split.

Example:
    >>> from tooln1.types import Sample
    >>> samples = [Sample(f"d{i // 2}-{i}", "x", [], [], [], dialog=f"d{i // 2}") for i in range(20)]
    >>> train, test = split_by_dialog(samples, test_fraction=0.1, seed=0)
    >>> len(train), len(test), {s.dialog for s in train} & {s.dialog for s in test}
    (18, 2, set())
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from tooln1.types import Sample


def split_by_dialog(samples: Sequence[Sample], test_fraction: float = 0.1, seed: int = 0) -> tuple[list, list]:
    """(train, test): a `test_fraction` share of the dialogues (at least one when there are two or more)."""
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    dialogs = list(dict.fromkeys(s.dialog or s.id for s in samples))  # first-appearance order: no hash seed
    random.Random(seed).shuffle(dialogs)
    n_test = round(len(dialogs) * test_fraction)
    if test_fraction > 0 and n_test == 0 and len(dialogs) >= 2:
        n_test = 1
    rank = {d: i for i, d in enumerate(dialogs)}
    ordered = sorted(samples, key=lambda s: rank[s.dialog or s.id])  # stable: steps keep their order
    cut = sum(1 for s in ordered if rank[s.dialog or s.id] < n_test)
    return ordered[cut:], ordered[:cut]

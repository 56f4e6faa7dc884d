"""Resumable runs: results appended as they finish, reruns skip finished items, interrupts lose nothing written.

A scripted backend stands in for a model here (the real backends have their own tests); it records which samples
it was asked for, e.g. a rerun after 2 of 5 items asks only for the other 3.

Run: .venv/bin/pytest tests/eval/test_runner.py
"""

from __future__ import annotations

import json

import pytest

from tooln1.errors import UserError
from tooln1.eval.runner import RESULTS, EvalItem, Verdict, load_results, run_items
from tooln1.types import Sample

ITEMS = [EvalItem(f"q{i}", "cat", Sample(f"q{i}", "t", [], [{"role": "user", "content": f"Q{i}"}], []))
         for i in range(5)]  # fmt: skip
CONFIG = {"benchmark": "unit", "model": "m", "backend": "scripted"}


class Scripted:
    """Answers "A<n>" for sample q<n>; raises KeyboardInterrupt after `stop_after` answers (None: never)."""

    name = "scripted"

    def __init__(self, stop_after: int | None = None):
        self.asked: list[str] = []
        self.stop_after = stop_after

    def generate(self, samples):
        for i, s in reversed(list(enumerate(samples))):  # out of order, as batched backends are
            if self.stop_after is not None and len(self.asked) >= self.stop_after:
                raise KeyboardInterrupt
            self.asked.append(s.id)
            yield i, "A" + s.id[1:]


def score(item: EvalItem, completion: str) -> Verdict:
    return Verdict(completion == "A" + item.id[1:], None, None)


def test_rows_come_back_in_item_order_and_are_written_per_item(tmp_path):
    rows = run_items(ITEMS, Scripted, tmp_path, score, CONFIG)
    assert [r["id"] for r in rows] == [it.id for it in ITEMS]
    assert all(r["correct"] and r["completion"] == "A" + r["id"][1:] for r in rows)
    lines = (tmp_path / RESULTS).read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["q4", "q3", "q2", "q1", "q0"]
    assert json.loads((tmp_path / "run.json").read_text()) == CONFIG


def test_interrupt_keeps_finished_items_and_a_rerun_does_only_the_rest(tmp_path):
    first = Scripted(stop_after=2)
    with pytest.raises(KeyboardInterrupt):
        run_items(ITEMS, lambda: first, tmp_path, score, CONFIG)
    assert set(load_results(tmp_path / RESULTS)) == {"q4", "q3"}
    second = Scripted()
    rows = run_items(ITEMS, lambda: second, tmp_path, score, CONFIG)
    assert sorted(second.asked) == ["q0", "q1", "q2"]
    assert len(rows) == 5 and len((tmp_path / RESULTS).read_text().splitlines()) == 5


def test_a_finished_run_does_not_build_a_backend(tmp_path):
    run_items(ITEMS, Scripted, tmp_path, score, CONFIG)

    def no_backend():
        raise AssertionError("backend built for a finished run")

    assert len(run_items(ITEMS, no_backend, tmp_path, score, CONFIG)) == 5


def test_a_half_written_last_line_is_dropped(tmp_path):
    run_items(ITEMS[:2], Scripted, tmp_path, score, CONFIG)
    with (tmp_path / RESULTS).open("a") as f:
        f.write('{"id": "q2", "comp')
    assert set(load_results(tmp_path / RESULTS)) == {"q0", "q1"}
    assert (tmp_path / RESULTS).read_text().endswith("}\n")
    backend = Scripted()
    run_items(ITEMS, lambda: backend, tmp_path, score, CONFIG)
    assert sorted(backend.asked) == ["q2", "q3", "q4"]


def test_results_of_another_configuration_are_refused(tmp_path):
    run_items(ITEMS[:1], Scripted, tmp_path, score, CONFIG)
    with pytest.raises(UserError, match=r"holds results of another run \(model: 'm' -> 'other'\)"):
        run_items(ITEMS, Scripted, tmp_path, score, {**CONFIG, "model": "other"})


def test_a_corrupt_results_line_is_a_user_error(tmp_path):
    (tmp_path / RESULTS).write_text('{"id": "q0"}\nnot json\n')
    with pytest.raises(UserError, match=r"results.jsonl:2: not a results line"):
        load_results(tmp_path / RESULTS)

"""Tests for `tooln1.data.synth` and its catalogue: coverage of types and task kinds, literal values, determinism.

Example:
    .venv/bin/pytest tests/data/test_data_synth.py -q
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from tooln1.data.synth import CATALOGUE, KINDS, SLOT_RE, WEIGHTS, generate
from tooln1.data.synth_catalogue import CHITCHAT, Param
from tooln1.types import Sample

N = 3000


@pytest.fixture(scope="module")
def samples() -> list[Sample]:
    return generate(N, seed=11)


def _kinds(p: Param) -> set[str]:
    kinds = {"enum" if p.enum else p.type}
    for sub in p.fields.values():
        kinds |= _kinds(sub)
    return kinds


def test_catalogue_covers_every_json_type() -> None:
    assert len(CATALOGUE) >= 30
    kinds = set().union(*(_kinds(p) for t in CATALOGUE.values() for p in t.params.values()))
    assert kinds == {"string", "enum", "integer", "number", "boolean", "array", "object"}
    assert len({t.category for t in CATALOGUE.values()}) >= 10


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_templates_state_required_arguments_and_only_known_ones(name: str) -> None:
    tool = CATALOGUE[name]
    required = {k for k, p in tool.params.items() if not p.optional}
    optional_seen = set()
    for template in tool.templates:
        slots = SLOT_RE.findall(template)
        top = {s.split(".")[0] for s in slots}
        assert required <= top <= set(tool.params), template
        assert not template.startswith("{"), template  # parallel queries lower-case the second query's first letter
        for slot in slots:
            if "." in slot:
                parent, sub = slot.split(".")
                assert sub in tool.params[parent].fields, slot
        optional_seen |= top - required
        objects = [k for k in top if tool.params[k].type == "object"]
        for k in objects:  # an object's required fields appear whenever the object does
            fields = {s.split(".")[1] for s in slots if s.startswith(f"{k}.")}
            assert {f for f, p in tool.params[k].fields.items() if not p.optional} <= fields, template
    assert optional_seen == {k for k, p in tool.params.items() if p.optional}


def test_generate_is_deterministic_and_distinct(samples: list[Sample]) -> None:
    assert [s.to_json() for s in generate(50, seed=11)] == [s.to_json() for s in samples[:50]]
    assert generate(50, seed=12)[0].to_json() != samples[0].to_json()
    assert len(samples) == N == len({s.id for s in samples})


def _mentions(value: Any, param: Param, query: str) -> bool:
    if param.type == "boolean":
        return (param.words[0] if value else param.words[1]) in query
    if param.type == "array":
        return all(str(v) in query for v in value)
    if param.type == "object":
        return all(_mentions(v, param.fields[k], query) for k, v in value.items())
    return str(value) in query


def test_every_argument_value_is_written_in_the_query(samples: list[Sample]) -> None:
    for s in samples:
        query = s.messages[0]["content"]
        for call in s.gold:
            tool = CATALOGUE[call.name]
            assert call.name in {t["name"] for t in s.tools}
            for key, value in call.arguments.items():
                assert _mentions(value, tool.params[key], query), (query, key, value)
                if tool.params[key].type == "number":
                    assert isinstance(value, float) and value != int(value)
                if tool.params[key].enum:
                    assert value in tool.params[key].enum


def test_task_mix(samples: list[Sample]) -> None:
    def kind(s: Sample) -> str:
        if not s.gold:
            return "none"
        if len(s.gold) == 2:
            return "parallel"
        return "single" if len(s.tools) == 1 else "multiple"

    counts = Counter(kind(s) for s in samples)
    for k, w in zip(KINDS, WEIGHTS, strict=True):
        assert abs(counts[k] / N - w) < 0.04, (k, counts)
    assert {len(s.tools) for s in samples} == {1, 2, 3, 4}
    parallel = [s for s in samples if len(s.gold) == 2]
    assert 0.3 < sum(s.gold[0].name == s.gold[1].name for s in parallel) / len(parallel) < 0.7
    none = [s for s in samples if not s.gold]
    chit = sum(s.messages[0]["content"] in CHITCHAT for s in none)
    assert 0.3 < chit / len(none) < 0.7


def test_no_call_requests_are_for_unlisted_tools(samples: list[Sample]) -> None:
    for s in samples:
        query = s.messages[0]["content"]
        if s.gold or query in CHITCHAT:
            continue
        served_by = [t for t in CATALOGUE.values() if any(_template_matches(tp, query) for tp in t.templates)]
        assert served_by and not {t.name for t in served_by} & {t["name"] for t in s.tools}, query


def _template_matches(template: str, query: str) -> bool:
    pattern = "".join(
        ".+?" if part.startswith("{") else re.escape(part) for part in re.split(r"(\{[\w.]+\})", template)
    )
    return re.fullmatch(pattern, query) is not None


def test_a_call_request_matches_only_its_own_tool_among_those_listed(samples: list[Sample]) -> None:
    for s in samples:
        if len(s.gold) != 1:
            continue
        query, listed = s.messages[0]["content"], [CATALOGUE[t["name"]] for t in s.tools]
        assert [t.name for t in listed if any(_template_matches(tp, query) for tp in t.templates)] == [s.gold[0].name]

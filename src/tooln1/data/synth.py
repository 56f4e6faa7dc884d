"""Synthetic tool-calling tasks from the built-in catalogue, for the CPU demo and for tests (not for real training).

`tooln1 data synth --n N --seed S --out DIR` writes the same folder layout as `tooln1 data build`, so training
and evaluation read either. The tasks are made to be learnable by a 270M base model in minutes of CPU RL: short
tool lists (1 to 4 tools), plain queries whose argument values all appear literally in the text, and a mix of

- `single` (35 %): one tool listed, one call;
- `multiple` (30 %): the right tool among 2 to 4, one call;
- `parallel` (20 %): two calls in one reply, to the same tool with other values or to two tools;
- `none` (15 %): no call is correct (gold `[]`): chit-chat, or a real request for a tool that is not listed.

Across the catalogue (`synth_catalogue.py`, 36 tools) arguments cover every JSON type: string, enum, integer,
number, boolean, array and nested object; optional arguments appear only when the query asks for them.

Example:
    >>> s = generate(2, seed=0)[1]
    >>> s.messages[0]["content"]
    'Send an email to eli@example.org titled "Lunch on Friday". Mark it urgent.'
    >>> s.gold
    [ToolCall(name='send_email', arguments={'to': 'eli@example.org', 'subject': 'Lunch on Friday', 'urgent': True})]
"""

from __future__ import annotations

import random
import re
from typing import Any

from tooln1.data.dialog import user
from tooln1.data.filters import Deduper
from tooln1.data.synth_catalogue import CATALOGUE, CHITCHAT, Param, Tool
from tooln1.types import Sample, ToolCall

NAME = "synth"
KINDS = ("single", "multiple", "parallel", "none")
WEIGHTS = (0.35, 0.30, 0.20, 0.15)
SLOT_RE = re.compile(r"\{([\w.]+)\}")
CONNECTORS = (" Also, ", " And ", " Then ")


def _value(p: Param, rng: random.Random) -> Any:
    if p.type == "string":
        if p.pattern:
            return "".join(rng.choice("0123456789") if c == "#" else rng.choice("ABCDEFGHKLMNPRSTXZ") if c == "@"
                           else c for c in p.pattern)  # fmt: skip
        return rng.choice(p.values)
    if p.type == "integer":
        return rng.randint(*p.span)
    if p.type == "number":
        lo, hi = p.span
        step = 0.1 if hi - lo >= 5 else 0.01
        x = round(rng.uniform(lo, hi), 1 if step == 0.1 else 2)
        # Never integral: the reward is type-strict (5 != 5.0) and a query saying "5" reads as an integer.
        return x if x != int(x) else round(x + 5 * step, 2)
    if p.type == "boolean":
        return rng.random() < 0.5
    if p.item_type == "integer":  # array of integers
        return [rng.randint(*p.span) for _ in range(rng.randint(3, 4))]
    return rng.sample(p.values, rng.randint(2, 3))


def _text(p: Param, value: Any) -> str:
    if p.type == "boolean":
        return p.words[0] if value else p.words[1]
    if p.type == "array":
        items = [str(v) for v in value]
        return ", ".join(items[:-1]) + " and " + items[-1]
    return str(value)


def fill(tool: Tool, rng: random.Random) -> tuple[str, dict[str, Any]]:
    """A query from one of the tool's templates and the gold arguments it states."""
    template = rng.choice(tool.templates)
    args: dict[str, Any] = {}
    used: set[str] = set()  # two string slots from one pool (origin, destination) get different values

    def draw(p: Param) -> Any:
        for _ in range(20):
            v = _value(p, rng)
            if p.type != "string" or not p.values or v not in used:
                break
        if p.type == "string":
            used.add(v)
        return v

    def slot(match: re.Match) -> str:
        name, _, sub = match.group(1).partition(".")
        p = tool.params[name]
        if sub:
            p, v = p.fields[sub], draw(p.fields[sub])
            args.setdefault(name, {})[sub] = v
        else:
            args[name] = v = draw(p)
        return _text(p, v)

    return SLOT_RE.sub(slot, template), args


def _others(exclude: set[str], k: int, rng: random.Random, category: str | None = None) -> list[Tool]:
    """`k` random catalogue tools not named in `exclude` (and not of `category`, when given)."""
    pool = [t for t in CATALOGUE.values() if t.name not in exclude and t.category != category]
    return rng.sample(pool, min(k, len(pool)))


def _join(first: str, second: str) -> str:
    return f"{first}{CONNECTORS[len(first) % len(CONNECTORS)]}{second[0].lower()}{second[1:]}"


def make_task(kind: str, rng: random.Random) -> tuple[list[Tool], str, list[ToolCall]]:
    """(tools listed, query, gold calls) of one task of the given kind."""
    tools = list(CATALOGUE.values())
    target = rng.choice(tools)
    if kind == "none":
        if rng.random() < 0.5:
            return _others(set(), rng.randint(1, 3), rng), rng.choice(CHITCHAT), []
        query, _ = fill(target, rng)
        return _others({target.name}, rng.randint(1, 3), rng, target.category), query, []
    query, args = fill(target, rng)
    gold = [ToolCall(target.name, args)]
    listed = [target]
    if kind == "multiple":
        listed += _others({target.name}, rng.randint(1, 3), rng)
    elif kind == "parallel":
        second = target if rng.random() < 0.5 else _others({target.name}, 1, rng)[0]
        query2, args2 = fill(second, rng)
        if second.name == target.name and args2 == args:
            return make_task(kind, rng)  # the same call twice is not a parallel task
        query, gold = _join(query, query2), [*gold, ToolCall(second.name, args2)]
        listed += [second] if second is not target else []
        listed += _others({t.name for t in listed}, rng.randint(0, 4 - len(listed)), rng)
    rng.shuffle(listed)
    return listed, query, gold


def generate(n: int, seed: int = 0) -> list[Sample]:
    """`n` distinct synthetic samples, deterministic in `seed`."""
    rng = random.Random(seed)
    dedup = Deduper()
    samples: list[Sample] = []
    for _ in range(100 * n + 1000):  # the task space is far larger than any n; this only bounds a bad catalogue
        if len(samples) == n:
            break
        kind = rng.choices(KINDS, WEIGHTS)[0]
        tools, query, gold = make_task(kind, rng)
        sid = f"{NAME}-{len(samples)}"
        sample = Sample(sid, NAME, [t.schema() for t in tools], [user(query)], gold, dialog=sid)
        if dedup.original(sample) is None:
            samples.append(sample)
    if len(samples) < n:
        raise ValueError(f"only {len(samples)} distinct synthetic samples could be made, asked for {n}")
    return samples

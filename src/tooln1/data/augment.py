"""The paper's optional augmentations (method §1.7), off by default: irrelevance samples and Hammer-style masking.

The official code has both (`data_augment_irrelevant`, `hammer_mask`) but its `main()` calls neither, and the
paper's counts suggest the headline model did not use them. Both apply only to single-turn samples (history = one
user turn): in a multi-turn history, tool names also appear in past calls and tool results, which these edits
would leave inconsistent.

- `irrelevance_samples`: for a `rate` share of samples, a copy with every tool named in the gold removed and
  gold `[]` ("no call is correct"); kept only if some tool remains. Added next to the originals, in the same
  dialogue, so an original and its irrelevance copy never straddle the split.
- `mask_names` (Hammer): with probability `rate` per sample, (a) every function gets a random 5-15 character
  name, (b) every parameter a random 4-10 character name, in the tools and the gold alike, and (c) a parameter
  whose default equals the gold value gets a perturbed value (int +1..4, float + U(0, 1), string -> 5 random
  letters) in the schema default, the description, the gold and the query; the tool list is shuffled. The
  official variant also re-adds duplicated tools before shuffling; that step is left out.

Example:
    >>> import random
    >>> from tooln1.types import ToolCall
    >>> s = Sample("a", "xlam", [{"name": "f"}, {"name": "g"}], [{"role": "user", "content": "hi"}],
    ...            [ToolCall("f", {})], dialog="a")
    >>> [(x.id, [t["name"] for t in x.tools], x.gold) for x in irrelevance_samples([s], 1.0, random.Random(0))]
    [('a-irrelevant', ['g'], [])]
"""

from __future__ import annotations

import copy
import random
import re
import string
from dataclasses import replace
from typing import Any

from tooln1.types import Sample, ToolCall

NAME_CHARS = string.ascii_letters + string.digits + "_."
PARAM_CHARS = string.ascii_letters + string.digits + "_"


def _single_turn(sample: Sample) -> bool:
    return len(sample.messages) == 1 and sample.messages[0]["role"] == "user"


def irrelevance_samples(samples: list[Sample], rate: float, rng: random.Random) -> list[Sample]:
    """New no-call samples made from a `rate` share of the single-turn samples that have calls."""
    out = []
    for s in samples:
        if not (_single_turn(s) and s.gold) or rng.random() >= rate:
            continue
        called = {c.name for c in s.gold}
        tools = [t for t in s.tools if t["name"] not in called]
        if tools:
            out.append(replace(s, id=f"{s.id}-irrelevant", tools=tools, gold=[]))
    return out


def _properties(params: Any) -> dict[str, Any]:
    """The parameter map of a schema: JSON-schema `properties` (`{"type": "object", ...}`), or xLAM's flat
    `{name: spec}`."""
    if not isinstance(params, dict):
        return {}
    props = params.get("properties", {}) if isinstance(params.get("type"), str) else params
    return props if isinstance(props, dict) else {}


def _fresh(rng: random.Random, chars: str, lo: int, hi: int, taken: set[str]) -> str:
    while True:
        name = "".join(rng.choice(chars) for _ in range(rng.randint(lo, hi)))
        if name not in taken:
            taken.add(name)
            return name


def _perturbable(value: Any) -> bool:
    return isinstance(value, (int, float, str)) and not isinstance(value, bool)


def _perturb(value: Any, rng: random.Random) -> Any:
    if isinstance(value, int):
        return value + rng.randint(1, 4)
    if isinstance(value, float):
        return round(value + rng.random(), 3)
    return "".join(rng.choice(string.ascii_letters) for _ in range(5))


def _replace_word(text: str, old: Any, new: Any) -> str:
    return re.sub(rf"(?<!\w){re.escape(str(old))}(?!\w)", str(new), text) if str(old) else text


def _mask(sample: Sample, rng: random.Random) -> Sample:
    tools = copy.deepcopy(sample.tools)
    query = sample.messages[0]["content"]
    gold = [ToolCall(c.name, copy.deepcopy(c.arguments)) for c in sample.gold]
    taken: set[str] = set()
    new_names = {t["name"]: _fresh(rng, NAME_CHARS, 5, 15, taken) for t in tools}
    for t in tools:
        props = _properties(t.get("parameters"))
        taken_params = set(props)  # new names never collide with old or other new ones
        renames = {p: _fresh(rng, PARAM_CHARS, 4, 10, taken_params) for p in props}
        calls = [c for c in gold if c.name == t["name"]]
        for old, spec in list(props.items()):
            for c in calls:
                value = c.arguments.get(old)
                default = spec.get("default") if isinstance(spec, dict) else None
                if _perturbable(value) and type(default) is type(value) and default == value:
                    new = _perturb(value, rng)
                    spec["default"] = new
                    spec["description"] = _replace_word(str(spec.get("description", "")), value, new)
                    c.arguments[old] = new
                    query = _replace_word(query, value, new)
            props[renames[old]] = props.pop(old)
        if isinstance(t.get("parameters"), dict) and isinstance(t["parameters"].get("required"), list):
            t["parameters"]["required"] = [renames.get(r, r) for r in t["parameters"]["required"]]
        for c in calls:
            for old in list(c.arguments):
                c.arguments[renames.get(old, old)] = c.arguments.pop(old)
        t["name"] = new_names[t["name"]]
    rng.shuffle(tools)
    gold = [ToolCall(new_names.get(c.name, c.name), c.arguments) for c in gold]
    messages = [{**sample.messages[0], "content": query}]
    return replace(sample, id=f"{sample.id}-masked", tools=tools, messages=messages, gold=gold)


def mask_names(samples: list[Sample], rate: float, rng: random.Random) -> list[Sample]:
    """The samples, each single-turn one replaced by its masked copy with probability `rate`."""
    return [_mask(s, rng) if _single_turn(s) and rng.random() < rate else s for s in samples]

"""Executable multi-step tasks in the `tooln1.data.mt_envs` environments, with a held-out split.

`tooln1 data synth --multi-turn --n N --seed S --out DIR` writes

- `train.jsonl`, `test.jsonl`: one task per line (`MultiTurnTask.to_dict`): environment, initial state, user
  turn(s), the gold call sequence per turn, the gold final state and the gold call results;
- `train_steps.jsonl`: every step of the train tasks' gold trajectories as a single-step `Sample` (history with
  earlier calls and their results; the last step's gold is `[]`, the reply that ends the turn), for an SFT
  warm-up with the ordinary `tooln1 train sft`.

Every task needs at least two calls, and most need a result before the next call: the ids of to-do items and
events are random, so "mark 'buy milk' as done" means `find_item` first, then `complete_item` with the id it
returned. Held-out: the entity a test task acts on (item title, product, file, event) comes from a third of each
value pool that no train task acts on, and test tasks use other seeds.

Example:
    >>> task = generate(1, seed=0)[0]
    >>> task.env, task.turns[0][0]["content"]
    ('calendar', "Cancel my 'yoga class'.")
    >>> [c["name"] for c in task.gold_calls[0]]
    ['find_event', 'cancel_event']
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from tooln1.data import mt_envs
from tooln1.types import Sample, ToolCall

FORMAT = "tooln1-multiturn-v1"
TITLES = ("buy milk", "call the bank", "water the plants", "pay rent", "book flights", "renew passport",
          "clean the garage", "send invoices", "fix the bike", "read chapter 3", "order printer ink",
          "walk the dog")  # fmt: skip
PRODUCTS = ("apple", "pear", "banana", "notebook", "pen", "mug", "towel", "candle", "lamp")
FILES = ("notes.txt", "budget.csv", "draft.md", "photo.png", "todo.txt", "report.pdf", "letter.doc", "plan.txt",
         "recipe.txt")  # fmt: skip
FOLDERS = ("archive", "old", "work", "backup", "shared", "misc")
EVENTS = ("team standup", "dentist", "yoga class", "piano lesson", "budget review", "book club", "car service",
          "lunch with Sam", "flu shot")  # fmt: skip
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


@dataclass(frozen=True)
class MultiTurnTask:
    """One executable task: its gold is the call sequence per user turn and the final state it leads to."""

    id: str
    env: str
    initial_state: dict[str, Any]
    turns: list[list[dict[str, str]]]
    gold_calls: list[list[dict[str, Any]]]
    gold_state: dict[str, Any]
    gold_results: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MultiTurnTask:
        if d.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} task (format: {d.get('format')!r})")
        return cls(**{k: d[k] for k in ("id", "env", "initial_state", "turns", "gold_calls", "gold_state",
                                        "gold_results")})  # fmt: skip


def _pool(values: tuple[str, ...], split: str) -> tuple[str, ...]:
    """The train (first two thirds) or test (last third) part of a value pool."""
    cut = len(values) * 2 // 3
    return values[:cut] if split == "train" else values[cut:]


def _ids(rng: random.Random, k: int) -> list[int]:
    return rng.sample(range(3, 99), k)


def _todo(rng: random.Random, split: str) -> tuple[dict, str, list[tuple[str, dict]]]:
    target = rng.choice(_pool(TITLES, split))
    others = rng.sample([t for t in TITLES if t != target], rng.randint(1, 3))
    titles = [target, *others]
    rng.shuffle(titles)
    items = [{"id": i, "title": t, "done": False} for i, t in zip(_ids(rng, len(titles)), titles, strict=True)]
    item_id = next(i["id"] for i in items if i["title"] == target)
    state = {"items": items}
    kind = rng.choice(("complete", "delete", "add"))
    if kind == "complete":
        return state, f"Mark '{target}' as done.", [("find_item", {"title": target}),
                                                     ("complete_item", {"item_id": item_id})]  # fmt: skip
    if kind == "delete":
        return state, f"Remove '{target}' from my to-do list.", [("find_item", {"title": target}),
                                                                  ("delete_item", {"item_id": item_id})]  # fmt: skip
    state = {"items": [i for i in items if i["title"] != target]}
    new_id = max((i["id"] for i in state["items"]), default=0) + 1
    return state, f"Add '{target}' to my to-do list and mark it as done.", [("add_item", {"title": target}),
                                                                            ("complete_item", {"item_id": new_id})]


def _shop(rng: random.Random, split: str) -> tuple[dict, str, list[tuple[str, dict]]]:
    products = list(PRODUCTS)
    stock = {p: rng.randint(3, 9) for p in products}
    state = {"stock": stock, "prices": {p: rng.randint(1, 40) + 0.5 for p in products}, "cart": {}, "orders": []}
    first = rng.choice(_pool(PRODUCTS, split))
    q1 = rng.randint(1, 3)
    if rng.random() < 0.5:
        return state, f"Buy {q1} {first}.", [("add_to_cart", {"product": first, "quantity": q1}), ("checkout", {})]
    second = rng.choice([p for p in PRODUCTS if p != first])
    q2 = rng.randint(1, 3)
    calls = [("add_to_cart", {"product": first, "quantity": q1}), ("add_to_cart", {"product": second, "quantity": q2}),
             ("checkout", {})]  # fmt: skip
    return state, f"Buy {q1} {first} and {q2} {second}.", calls


def _files(rng: random.Random, split: str) -> tuple[dict, str, list[tuple[str, dict]]]:
    target = rng.choice(_pool(FILES, split))
    names = [target, *rng.sample([f for f in FILES if f != target], 2)]
    folder = "/" + rng.choice(FOLDERS)
    state = {"files": {"/" + n: f"text of {n}" for n in names}}
    return state, f"Create the folder {folder} and move /{target} into it.", [
        ("make_dir", {"path": folder}), ("move_file", {"source": "/" + target, "folder": folder})]  # fmt: skip


def _calendar(rng: random.Random, split: str) -> tuple[dict, str, list[tuple[str, dict]]]:
    target = rng.choice(_pool(EVENTS, split))
    titles = [target, *rng.sample([e for e in EVENTS if e != target], rng.randint(1, 3))]
    rng.shuffle(titles)
    events = [{"id": i, "title": t, "day": rng.choice(DAYS)} for i, t in zip(_ids(rng, len(titles)), titles,
                                                                            strict=True)]  # fmt: skip
    ev = next(e for e in events if e["title"] == target)
    state = {"events": events}
    if rng.random() < 0.5:
        return state, f"Cancel my '{target}'.", [("find_event", {"title": target}),
                                                 ("cancel_event", {"event_id": ev["id"]})]  # fmt: skip
    day = rng.choice([d for d in DAYS if d != ev["day"]])
    return state, f"Move my '{target}' to {day}.", [("find_event", {"title": target}),
                                                    ("move_event", {"event_id": ev["id"], "day": day})]  # fmt: skip


MAKERS: dict[str, Callable[[random.Random, str], tuple[dict, str, list[tuple[str, dict]]]]] = {
    "todo": _todo, "shop": _shop, "files": _files, "calendar": _calendar,
}  # fmt: skip


def run_gold(env_name: str, initial_state: dict[str, Any], calls: list[dict[str, Any]]) -> tuple[dict, list[str]]:
    """Execute gold calls in a fresh environment: (final state, results). A failing gold call is a bug: raises."""
    env = mt_envs.make(env_name)
    env.reset(task={"initial_state": initial_state})
    methods = mt_envs.tool_methods(env)
    results = [methods[c["name"]](**c["arguments"]) for c in calls]
    return env._state(), results


def make_task(task_id: str, rng: random.Random, split: str) -> MultiTurnTask:
    env_name = rng.choice(sorted(MAKERS))
    state, query, calls = MAKERS[env_name](rng, split)
    gold = [{"name": n, "arguments": a} for n, a in calls]
    final, results = run_gold(env_name, state, gold)
    return MultiTurnTask(task_id, env_name, state, [[{"role": "user", "content": query}]], [gold], final, results)


def generate(n: int, seed: int = 0, split: str = "train") -> list[MultiTurnTask]:
    """`n` distinct tasks of one split, deterministic in `seed`."""
    rng = random.Random(f"{seed}-{split}")
    tasks: list[MultiTurnTask] = []
    seen: set[str] = set()
    for _ in range(50 * n + 100):
        if len(tasks) == n:
            break
        task = make_task(f"mt-{split}-{len(tasks)}", rng, split)
        key = json.dumps([task.env, task.initial_state, task.turns], sort_keys=True)
        if key not in seen:
            seen.add(key)
            tasks.append(task)
    if len(tasks) < n:
        raise ValueError(f"only {len(tasks)} distinct multi-turn tasks could be made, asked for {n}")
    return tasks


def step_samples(task: MultiTurnTask) -> list[Sample]:
    """The gold trajectory as single-step samples: one per call step, then the `[]` reply that ends the turn."""
    tools = mt_envs.tool_schemas(task.env)
    history: list[dict[str, Any]] = []
    out = []
    results = iter(task.gold_results)
    for t, (turn, calls) in enumerate(zip(task.turns, task.gold_calls, strict=True)):
        history += turn
        for k, call in enumerate([*calls, None]):
            gold = [] if call is None else [ToolCall(call["name"], call["arguments"])]
            # The same short reasoning as the history shows, so an SFT warm-up's target reads like its context.
            reason = "The task is done, so I make no call." if call is None else f"I call {call['name']}."
            out.append(Sample(f"{task.id}-t{t}s{k}", "synth-mt", tools, list(history), gold, dialog=task.id,
                              reasoning=reason))  # fmt: skip
            if call is not None:
                history += [{"role": "assistant", "content": f"<think>{reason}</think>", "tool_calls": [call]},
                            {"role": "tool", "content": next(results)}]
    return out

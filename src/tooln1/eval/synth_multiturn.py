"""Held-out multi-turn synthetic tasks (`tooln1 data synth --multi-turn`) through the multi-turn eval loop.

`tooln1 eval multi-turn --data DIR` runs each task of DIR/test.jsonl in its `tooln1.data.mt_envs` environment
with `tooln1.eval.multiturn` (the loop BFCL multi-turn uses) and scores it with the training reward
`tooln1.rewards_multiturn.outcome_score`, so accuracy here is the rate of reward 1 on held-out tasks.

Calls are validated like BFCL's (`tooln1.eval.safe_calls.build_call`: a known tool, identifier argument names,
JSON literal values); a valid call then runs as a plain method call with its JSON arguments (nothing is `eval`-ed).

Example:
    >>> episodes = load_episodes("runs/demo/mt-data", limit=10)                 # doctest: +SKIP
    >>> rows = run_episodes(episodes, make_backend, Path("runs/eval/mt"), cfg)  # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tooln1.data import mt_envs
from tooln1.data.synth_multiturn import MultiTurnTask
from tooln1.errors import UserError
from tooln1.eval.multiturn import CallResult, Episode
from tooln1.eval.runner import Verdict
from tooln1.eval.safe_calls import build_call
from tooln1.rewards_multiturn import OK, outcome_score

CATEGORY = "synth_multi_turn"


class SynthEnvironment:
    """One task's environment for the eval loop."""

    def __init__(self, task: MultiTurnTask) -> None:
        self.task = task
        self.env = mt_envs.make(task.env)
        self.env.reset(task=task.to_dict())
        self.methods = mt_envs.tool_methods(self.env)

    def execute(self, calls: list[Any]) -> list[CallResult]:
        out = []
        for call in calls:
            built = build_call(call, self.methods)
            if built.text is None:
                out.append(CallResult(None, f"Error: call refused ({built.reason})", built.reason))
                continue
            try:
                out.append(CallResult(built.text, self.methods[call["name"]](**call["arguments"])))
            except (ValueError, TypeError) as e:  # a bad request, or arguments the tool does not take
                out.append(CallResult(built.text, f"Error: {e}"))
        return out

    def score(self, turns: list[list[dict[str, Any]]]) -> Verdict:
        replies = [step["completion"] for turn in turns for step in turn]
        r = outcome_score(self.task.to_dict(), self.env._state(), self.env._log, replies)
        return Verdict(r.reason == OK, None if r.reason == OK else r.reason, None)

    def close(self) -> None:
        pass


def read_tasks(path: str | Path) -> list[MultiTurnTask]:
    """Tasks from a JSONL file, or DIR/test.jsonl."""
    p = Path(path)
    f = p / "test.jsonl" if p.is_dir() else p
    if not f.is_file():
        raise UserError(f"multi-turn tasks not found: {f}")
    tasks = []
    for lineno, line in enumerate(f.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                tasks.append(MultiTurnTask.from_dict(json.loads(line)))
            except (ValueError, KeyError, TypeError) as e:
                raise UserError(f"{f}:{lineno}: not a multi-turn task: {e}") from None
    if not tasks:
        raise UserError(f"no tasks in {f}")
    return tasks


def load_episodes(path: str | Path, limit: int | None = None) -> list[Episode]:
    return [Episode(t.id, CATEGORY, t.turns, mt_envs.tool_schemas(t.env), lambda t=t: SynthEnvironment(t))
            for t in read_tasks(path)[:limit]]  # fmt: skip

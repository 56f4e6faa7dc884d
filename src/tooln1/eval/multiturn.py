"""The multi-turn agent loop for evaluation: prompt, execute the calls, append the results, repeat; resumable.

An `Episode` is one multi-turn task: its user turns, the tools shown (plus tools added at a given turn, BFCL's
`miss_func`), and an `Environment` that executes parsed calls and scores the finished episode. Per user turn the
model is prompted with the Tool-N1 template (`tooln1.prompt.render_prompt`: tools in the system text, the history
with earlier replies and their tool results); the calls of its last `<tool_call>` block are executed, one tool
message per call is appended, and the model goes on until a reply holds no usable call (an empty list, no block,
bad JSON), as BFCL's own inference loop does. More than `max_steps` executed steps in one turn ends the episode
(BFCL's `MAXIMUM_STEP_LIMIT` = 20 and its "force-terminated" rule).

Replies stay in the history as the model wrote them (not re-rendered), which is what TRL's tool loop feeds the
policy in multi-turn training too. Episodes advance in lockstep batches: each round renders the next prompt of
every active episode and sends them to the backend in one `generate` call, so the `hf`, `openai` and `vllm`
backends all work unchanged. A finished episode is scored at once and its row appended to `results.jsonl`
(`tooln1.eval.runner` layout), so a rerun resumes per episode.

Example:
    >>> rows = run_episodes(episodes, make_backend, Path("runs/mt"), {"benchmark": "bfcl"})   # doctest: +SKIP
    >>> rows[0]["correct"], rows[0]["turns"][0][0]["executed"]                              # doctest: +SKIP
    (False, ["cd(folder='document')"])
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tqdm import tqdm

from tooln1.eval.backends import Backend
from tooln1.eval.runner import Verdict, resume_results
from tooln1.parsing import parse_completion
from tooln1.types import Sample

logger = logging.getLogger(__name__)

DEFAULT_MAX_STEPS = 20  # bfcl_eval.constants.default_prompts.MAXIMUM_STEP_LIMIT


@dataclass(frozen=True)
class CallResult:
    """One executed or refused call: the string that ran (None if refused), the tool message, the refusal code."""

    executed: str | None
    result: str
    refused: str | None = None


class Environment(Protocol):
    """What the loop needs from an episode's environment."""

    def execute(self, calls: list[Any]) -> list[CallResult]:
        """Run one reply's parsed calls in order; refused calls run nothing and answer with an error message."""
        ...

    def score(self, turns: list[list[dict[str, Any]]]) -> Verdict:
        """Score the finished episode from its record (per turn, per step: `executed` call strings and more)."""
        ...

    def close(self) -> None:
        """Free what the environment holds (BFCL keeps its instances in module globals)."""
        ...


@dataclass
class Episode:
    """One multi-turn task. `added_tools[t]`: tools that become available from user turn t on (BFCL miss_func)."""

    id: str
    category: str
    turns: list[list[dict[str, Any]]]
    tools: list[dict[str, Any]]
    make_env: Callable[[], Environment]
    added_tools: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    added_tools_message: str = "I have updated some more functions you can choose from. What about now?"


@dataclass
class _State:
    """A running episode: history, position, record."""

    episode: Episode
    env: Environment
    tools: list[dict[str, Any]]
    history: list[dict[str, Any]] = field(default_factory=list)
    turn: int = -1
    steps: int = 0  # executed steps in the current turn
    record: list[list[dict[str, Any]]] = field(default_factory=list)
    force_quit: bool = False
    done: bool = False

    def start_next_turn(self) -> None:
        """Append the next user turn (and its added tools), or mark the episode done."""
        self.turn += 1
        self.steps = 0
        if self.turn >= len(self.episode.turns):
            self.done = True
            return
        messages = [dict(m) for m in self.episode.turns[self.turn] if m.get("role") != "system"]
        if self.turn in self.episode.added_tools:
            self.tools = self.tools + self.episode.added_tools[self.turn]
            if not messages:  # BFCL's held-out turns have no user text; it then says the tools were updated
                messages = [{"role": "user", "content": self.episode.added_tools_message}]
        self.history.extend(messages)
        self.record.append([])

    def sample(self) -> Sample:
        # The id names the episode, turn and step, so a scripted backend can answer each step (the replay test).
        sid = f"{self.episode.id}#t{self.turn}s{len(self.record[-1])}"
        return Sample(id=sid, source=self.episode.category, tools=self.tools, messages=list(self.history), gold=[])

    def advance(self, completion: str, max_steps: int) -> None:
        """Take one reply: execute its calls (then stay in the turn) or end the turn."""
        self.history.append({"role": "assistant", "content": completion.strip()})
        parsed = parse_completion(completion)
        step: dict[str, Any] = {"completion": completion, "calls": parsed.calls, "executed": [], "results": [],
                                "refused": []}  # fmt: skip
        self.record[-1].append(step)
        if not parsed.calls:  # no block, bad JSON, or an empty list: the turn is over
            step["parse"] = parsed.error or "empty"
            self.start_next_turn()
            return
        for res in self.env.execute(parsed.calls):
            if res.executed is not None:
                step["executed"].append(res.executed)
            if res.refused is not None:
                step["refused"].append(res.refused)
            step["results"].append(res.result)
            self.history.append({"role": "tool", "content": res.result})
        self.steps += 1
        if self.steps > max_steps:
            self.force_quit = self.done = True


def summary_counts(turns: list[list[dict[str, Any]]]) -> dict[str, int]:
    """Steps (model replies), executed calls, refused calls and calls whose result reports an error."""
    steps = [s for t in turns for s in t]
    return {
        "steps": len(steps),
        "executed_calls": sum(len(s["executed"]) for s in steps),
        "refused_calls": sum(len(s["refused"]) for s in steps),
        "tool_errors": sum(is_error_result(r) for s in steps for r in s["results"]),
    }


def is_error_result(result: str) -> bool:
    """An executor's error ("Error…"), or a JSON object with an "error" key (how BFCL's tools report failures)."""
    if result.startswith("Error"):
        return True
    if not result.startswith("{"):
        return False
    try:
        value = json.loads(result)
    except ValueError:
        return False
    return isinstance(value, dict) and "error" in value


def _finish(state: _State) -> dict[str, Any]:
    try:
        if state.force_quit:
            verdict = Verdict(False, f"force_terminated: more than the step limit in turn {state.turn}", None)
        else:
            verdict = state.env.score(state.record)
    finally:
        state.env.close()
    return {"id": state.episode.id, "category": state.episode.category, "correct": verdict.correct,
            "error": verdict.error, **summary_counts(state.record), "turns": state.record}  # fmt: skip


def run_episodes(
    episodes: Sequence[Episode],
    make_backend: Callable[[], Backend],
    out_dir: Path,
    config: dict[str, Any],
    max_steps: int = DEFAULT_MAX_STEPS,
    window: int = 8,
) -> list[dict[str, Any]]:
    """Run every unfinished episode, `window` at a time in lockstep; append each row as it finishes; rows in order."""
    path, done = resume_results(out_dir, config, [e.id for e in episodes], "episodes")
    pending = [e for e in episodes if e.id not in done]
    if not pending:
        return [done[e.id] for e in episodes]
    backend = make_backend()
    queue = list(reversed(pending))
    active: list[_State] = []
    desc = f"{config.get('benchmark', 'eval')} multi-turn ({backend.name})"
    with path.open("a", encoding="utf-8") as log, tqdm(
        total=len(episodes), initial=len(episodes) - len(pending), desc=desc, unit="episode", dynamic_ncols=True
    ) as bar:
        while queue or active:
            while queue and len(active) < max(1, window):
                ep = queue.pop()
                state = _State(ep, ep.make_env(), list(ep.tools))
                state.start_next_turn()
                active.append(state)
            running = [s for s in active if not s.done]  # an episode without turns is done at once
            replies = dict(backend.generate([s.sample() for s in running])) if running else {}
            for i, state in enumerate(running):
                state.advance(replies[i], max_steps)
            for state in [s for s in active if s.done]:
                active.remove(state)
                row = _finish(state)
                log.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
                log.flush()
                done[row["id"]] = row
                bar.update()
    return [done[e.id] for e in episodes]

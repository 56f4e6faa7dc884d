"""The binary outcome reward of a multi-step episode, in the spirit of BFCL's multi-turn checker. Pure; never raises.

1 iff, in this order of checks (the first failing one is the reason code):
1. `format:no_tool_call`: at least one call was executed (a task always needs calls);
2. `format:missing_think`: every reply of the model holds `<think>` and `</think>` (Tool-N1's format rule);
3. `state:mismatch`: the environment's final state equals the gold final state (BFCL's state check);
4. `response:missing`: every gold call result is among the results of the model's calls, as a multiset and in
   any order (BFCL's response check: read-only calls leave no trace in the state, so their results must show).
Calls that failed (bad arguments, unknown ids) or extra calls that change nothing are allowed, as in BFCL.

Example:
    >>> gold = {"gold_state": {"n": 1}, "gold_results": ['{"n": 1}']}
    >>> log = [{"name": "inc", "arguments": {}, "result": '{"n": 1}'}]
    >>> outcome_score(gold, {"n": 1}, log, ["<think>x</think><tool_call>[...]</tool_call>"])
    OutcomeResult(score=1.0, reason='ok')
    >>> outcome_score(gold, {"n": 2}, log, ["<think>x</think>"]).reason
    'state:mismatch'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tooln1.parsing import CLOSE_THINK, OPEN_THINK

OK = "ok"
NO_CALL = "format:no_tool_call"
MISSING_THINK = "format:missing_think"
STATE_MISMATCH = "state:mismatch"
RESPONSE_MISSING = "response:missing"
REASON_CODES = (OK, NO_CALL, MISSING_THINK, STATE_MISMATCH, RESPONSE_MISSING)


@dataclass(frozen=True)
class OutcomeResult:
    score: float
    reason: str


def outcome_score(
    gold: Mapping[str, Any], final_state: Any, log: Sequence[Mapping[str, Any]], replies: Sequence[str]
) -> OutcomeResult:
    """Score one finished episode: `gold` holds `gold_state` and `gold_results`; `log` the executed calls, each with
    `result` (or `error`); `replies` the model's reply texts."""
    if not log:
        return OutcomeResult(0.0, NO_CALL)
    if not replies or not all(OPEN_THINK in r and CLOSE_THINK in r for r in replies):
        return OutcomeResult(0.0, MISSING_THINK)
    if final_state != gold.get("gold_state"):
        return OutcomeResult(0.0, STATE_MISMATCH)
    got = Counter(e["result"] for e in log if "result" in e)
    if Counter(gold.get("gold_results", ())) - got:
        return OutcomeResult(0.0, RESPONSE_MISSING)
    return OutcomeResult(1.0, OK)

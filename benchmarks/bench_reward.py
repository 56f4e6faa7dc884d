"""Reward throughput: completions scored per second, per variant, single-threaded, on realistic completions.

Example:
    $ .venv/bin/python benchmarks/bench_reward.py            # 100k completions, best of 3 runs per variant
    $ .venv/bin/python benchmarks/bench_reward.py --n 20000 --repeat 1

The completions imitate GRPO rollouts: 20k prompts x 5 rollouts (the paper's group size), so the gold JSON string of
a prompt arrives 5 times in a row, exactly as TRL passes the `ground_truth` column. Each prompt has 1-3 gold calls
drawn from realistic tool schemas; each rollout is correct, wrong in one argument (often a type slip like 5 vs
"5"), missing the think block, invalid JSON, a wrong call count, or has no tool call at all. Lengths are about
150-600 characters, like the paper's short 7B responses. The gold-parse cache is cleared before every run, so
each run pays for parsing its 20k distinct golds once. The issue's target: >= 75,000 completions/s for `binary`.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter

from tooln1.prompt import format_calls
from tooln1.rewards import VARIANTS, _gold_from_json, score

TARGET_BINARY = 75_000

CITIES = ["Paris", "Berlin", "New York", "São Paulo", "Tokyo", "Zürich", "Lagos", "Mumbai", "Austin"]
WORDS = ["cheap flights", "python asyncio tutorial", "best ramen", "weather radar", "stock AAPL", "jazz concerts"]
CURRENCIES = ["USD", "EUR", "JPY", "GBP", "CHF", "BRL"]


def _args(name: str, rng: random.Random) -> dict:
    """Realistic arguments for one of our tool names (ints, floats, bools, nested objects, lists)."""
    if name == "get_weather":
        return {"city": rng.choice(CITIES), "days": rng.randint(1, 7), "units": rng.choice(["metric", "imperial"])}
    if name == "search_flights":
        return {
            "origin": rng.choice(CITIES), "destination": rng.choice(CITIES), "date": f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            "passengers": {"adults": rng.randint(1, 3), "children": rng.randint(0, 2)}, "nonstop": rng.random() < 0.5,
        }  # fmt: skip
    if name == "convert_currency":
        return {"amount": round(rng.uniform(1, 5000), 2), "from": rng.choice(CURRENCIES), "to": rng.choice(CURRENCIES)}
    if name == "web_search":
        return {"query": rng.choice(WORDS), "max_results": rng.choice([5, 10, 20])}
    if name == "create_event":
        return {"title": "Team sync", "attendees": rng.sample(["ann@x.io", "bob@x.io", "eve@x.io", "li@x.io"], 2),
                "start": "2025-06-02T10:00:00", "duration_minutes": rng.choice([15, 30, 60]), "remind": True}  # fmt: skip
    return {"symbol": rng.choice(["AAPL", "NVDA", "MSFT"]), "interval": rng.choice(["1d", "1h"])}


TOOL_NAMES = ["get_weather", "search_flights", "convert_currency", "web_search", "create_event", "get_stock_price"]


def _think(calls: list[dict], rng: random.Random) -> str:
    names = ", ".join(c["name"] for c in calls)
    filler = rng.choice([
        "The user asks for this directly and gives every required parameter, so no clarification is needed.",
        "All required arguments are present in the request; I map each of them onto the schema types.",
        "I check the tool list, pick the matching function and fill the arguments with the exact values.",
    ])  # fmt: skip
    return f"<think>The request needs {names}. {filler}</think>\n"


def _wrong_arg(calls: list[dict], rng: random.Random) -> list[dict]:
    """One argument changed: a type slip (5 -> "5", 5 -> 5.0, true -> 1) or a different value."""
    out = json.loads(json.dumps(calls))
    args = rng.choice(out)["arguments"]
    key = rng.choice(sorted(args))
    v = args[key]
    args[key] = str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else (int(v) if isinstance(v, bool) else "unknown")
    return out


def make_rollouts(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """`n` (completion, gold JSON string) pairs, in groups of 5 rollouts per prompt."""
    rng = random.Random(seed)
    rows: list[tuple[str, str]] = []
    while len(rows) < n:
        k = rng.choices([1, 2, 3], weights=[70, 22, 8])[0]  # parallel calls in ~30% of prompts
        gold = [{"name": name, "arguments": _args(name, rng)} for name in rng.sample(TOOL_NAMES, k)]
        gold_json = json.dumps(gold)
        for _ in range(5):
            kind = rng.choices(["correct", "wrong_arg", "no_think", "invalid_json", "count", "no_call"],
                               weights=[45, 20, 12, 10, 8, 5])[0]  # fmt: skip
            calls = rng.sample(gold, len(gold))  # the model may emit parallel calls in any order
            think = _think(gold, rng)
            if kind == "correct":
                text = think + format_calls(calls)
            elif kind == "wrong_arg":
                text = think + format_calls(_wrong_arg(calls, rng))
            elif kind == "no_think":
                text = format_calls(calls)
            elif kind == "invalid_json":
                text = think + format_calls(calls)[:-15] + "</tool_call>"
            elif kind == "count":
                text = think + format_calls(calls + calls[:1])
            else:
                text = think + "None of the functions can answer this request without more information."
            rows.append((text, gold_json))
    return rows[:n]


def bench(rows: list[tuple[str, str]], variant: str, repeat: int) -> tuple[float, Counter]:
    """Best completions/second over `repeat` runs (the machine is shared; the best run is the least disturbed)."""
    best = 0.0
    reasons: Counter = Counter()
    for _ in range(repeat):
        _gold_from_json.cache_clear()
        t0 = time.perf_counter()
        results = [score(c, g, variant) for c, g in rows]
        best = max(best, len(rows) / (time.perf_counter() - t0))
        reasons = Counter(r.reason for r in results)
    return best, reasons


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="completions (default 100000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per variant; the best is reported (default 3)")
    args = ap.parse_args(argv)
    rows = make_rollouts(args.n)
    lengths = sorted(len(c) for c, _ in rows)
    print(f"{len(rows)} completions, {len(set(g for _, g in rows))} distinct golds, "
          f"length p5/p50/p95 = {lengths[len(lengths) // 20]}/{lengths[len(lengths) // 2]}/{lengths[-len(lengths) // 20]} chars")  # fmt: skip
    rates = {}
    for variant in VARIANTS:
        rates[variant], reasons = bench(rows, variant, args.repeat)
        mix = ", ".join(f"{k} {v / len(rows):.0%}" for k, v in reasons.most_common())
        print(f"{variant:16s} {rates[variant]:>10,.0f} completions/s   ({mix})")
    ok = rates["binary"] >= TARGET_BINARY
    print(f"binary / target {TARGET_BINARY:,}: {rates['binary'] / TARGET_BINARY:.2f}x -> {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

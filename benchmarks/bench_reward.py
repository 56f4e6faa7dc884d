"""Reward throughput: completions scored per second, per variant, single-threaded, on realistic completions.

Example:
    $ .venv/bin/python benchmarks/bench_reward.py            # 100k completions, best of 3 runs per variant
    $ .venv/bin/python benchmarks/bench_reward.py --n 20000 --repeat 1

The completions imitate GRPO rollouts: 20k prompts x 5 rollouts (the paper's group size), so the gold JSON string of
a prompt arrives 5 times in a row, exactly as TRL passes the `ground_truth` column. Each prompt has 1-3 gold calls
(parallel calls in ~30%) drawn from realistic tool schemas with strings, ints, floats, bools, lists and nested
objects. Each rollout is correct (any call order), wrong in one argument (mostly a type slip like 5 vs "5"),
missing the think block, invalid JSON (a truncated payload), an extra call, or a prose reply without a call.
Lengths are about 150-600 characters, like the paper's short 7B responses. The gold-parse cache is cleared before
every run, so each run parses its ~17k distinct golds once. A last line scores golds given as decoded lists (the
verl and CLI path, which has no cache). The issue's target: >= 75,000 completions/s for `binary` on one core.
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

CITIES = ["Paris", "Berlin", "New York", "São Paulo", "Tokyo", "Zürich", "Lagos", "Mumbai", "Austin", "Oslo",
          "Lima", "Seoul", "Cairo", "Perth", "Dublin", "Hanoi"]  # fmt: skip
WORDS = ["cheap flights", "python asyncio tutorial", "best ramen", "weather radar", "stock AAPL", "jazz concerts"]
CURRENCIES = ["USD", "EUR", "JPY", "GBP", "CHF", "BRL"]
PEOPLE = ["ann@x.io", "bob@x.io", "eve@x.io", "li@x.io"]
TOOL_NAMES = ["get_weather", "search_flights", "convert_currency", "web_search", "create_event", "get_stock_price"]
REASONS = [
    "The user asks for this directly and gives every required parameter, so no clarification is needed.",
    "All required arguments are present in the request; I map each of them onto the schema types.",
    "I check the tool list, pick the matching function and fill the arguments with the exact values.",
]


def _args(name: str, rng: random.Random) -> dict:
    """Realistic arguments for one of our tool names."""
    if name == "get_weather":
        return {"city": rng.choice(CITIES), "days": rng.randint(1, 14), "units": rng.choice(["metric", "imperial"])}
    if name == "search_flights":
        return {
            "origin": rng.choice(CITIES),
            "destination": rng.choice(CITIES),
            "date": f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            "passengers": {"adults": rng.randint(1, 3), "children": rng.randint(0, 2)},
            "nonstop": rng.random() < 0.5,
        }
    if name == "convert_currency":
        return {"amount": round(rng.uniform(1, 5000), 2), "from": rng.choice(CURRENCIES), "to": rng.choice(CURRENCIES)}
    if name == "web_search":
        query = f"{rng.choice(WORDS)} {rng.choice(CITIES)}"
        return {"query": query, "max_results": rng.choice([5, 10, 20]), "page": rng.randint(1, 9)}
    if name == "create_event":
        return {
            "title": "Team sync",
            "attendees": rng.sample(PEOPLE, 2),
            "start": f"2025-06-{rng.randint(10, 28)}T{rng.randint(10, 17)}:00:00",
            "duration_minutes": rng.choice([15, 30, 60]),
            "remind": True,
        }
    return {"symbol": rng.choice(["AAPL", "NVDA", "MSFT", "AMZN"]), "interval": rng.choice(["1d", "1h", "5m"]),
            "limit": rng.randint(10, 500)}  # fmt: skip


def _wrong_arg(calls: list[dict], rng: random.Random) -> list[dict]:
    """One argument changed: a number as a string (5 -> "5"), a bool as an int (true -> 1), else another value."""
    out = json.loads(json.dumps(calls))
    args = rng.choice(out)["arguments"]
    key = rng.choice(sorted(args))
    v = args[key]
    if isinstance(v, bool):
        args[key] = int(v)
    elif isinstance(v, (int, float)):
        args[key] = str(v)
    else:
        args[key] = "unknown"
    return out


def make_rollouts(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """`n` (completion, gold JSON string) pairs, in groups of 5 rollouts per prompt."""
    rng = random.Random(seed)
    kinds = ["correct", "wrong_arg", "no_think", "invalid_json", "extra_call", "no_call"]
    rows: list[tuple[str, str]] = []
    while len(rows) < n:
        gold = [{"name": name, "arguments": _args(name, rng)} for name in rng.sample(TOOL_NAMES, rng.choice([1] * 7 + [2, 2, 3]))]
        gold_json = json.dumps(gold)
        for kind in rng.choices(kinds, weights=[45, 20, 12, 10, 8, 5], k=5):
            calls = rng.sample(gold, len(gold))  # the model may emit parallel calls in any order
            think = f"<think>The request needs {', '.join(c['name'] for c in gold)}. {rng.choice(REASONS)}</think>\n"
            text = {
                "correct": lambda: think + format_calls(calls),
                "wrong_arg": lambda: think + format_calls(_wrong_arg(calls, rng)),
                "no_think": lambda: f"Calling {calls[0]['name']} now.\n" + format_calls(calls),
                "invalid_json": lambda: think + format_calls(calls)[:-15] + "</tool_call>",
                "extra_call": lambda: think + format_calls(calls + calls[:1]),
                "no_call": lambda: think + "None of the functions can answer this without more information.",
            }[kind]()
            rows.append((text, gold_json))
    return rows[:n]


def bench(rows: list[tuple[str, object]], variant: str, repeat: int) -> tuple[float, Counter]:
    """Best completions per CPU second over `repeat` runs.

    CPU time of this process (not wall time), so that other jobs on a shared machine do not count against it;
    the best run is the least disturbed one (caches, frequency).
    """
    best, reasons = 0.0, Counter()
    for _ in range(repeat):
        _gold_from_json.cache_clear()
        t0 = time.process_time()
        results = [score(c, g, variant) for c, g in rows]
        best = max(best, len(rows) / (time.process_time() - t0))
        reasons = Counter(r.reason for r in results)
    return best, reasons


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="completions (default 100000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per variant; the best is reported (default 3)")
    args = ap.parse_args(argv)
    rows = make_rollouts(args.n)
    lengths = sorted(len(c) for c, _ in rows)
    p5, p50, p95 = (lengths[int(q * (len(lengths) - 1))] for q in (0.05, 0.5, 0.95))
    print(f"{len(rows)} completions, {len({g for _, g in rows})} distinct golds, length p5/p50/p95 {p5}/{p50}/{p95}")
    rates = {}
    for variant in VARIANTS:
        rates[variant], reasons = bench(rows, variant, args.repeat)
        mix = ", ".join(f"{k} {v / len(rows):.0%}" for k, v in reasons.most_common())
        print(f"{variant:16s} {rates[variant]:>9,.0f} completions/s  ({mix})")
    decoded = [(c, json.loads(g)) for c, g in rows]
    print(f"{'binary, list gold':16s} {bench(decoded, 'binary', args.repeat)[0]:>9,.0f} completions/s  (no gold cache)")
    ok = rates["binary"] >= TARGET_BINARY
    print(f"binary / target {TARGET_BINARY:,}: {rates['binary'] / TARGET_BINARY:.2f}x -> {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

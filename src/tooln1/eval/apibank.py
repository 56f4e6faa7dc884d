"""API-Bank levels 1 and 2, "Call" items: given the dialogue so far and the API descriptions, produce the next call.

Data: the official test-data files `level-1-api.json` / `level-2-api.json` (AlibabaResearch/DAMO-ConvAI
`api-bank/test-data/`; 399 and 135 items). Each item has `instruction` (a fixed preamble, then "API
descriptions:" and one JSON description per line), `input` (the dialogue: lines "User: …", "AI: …" and
"API-Request: [Name(key='value', …)]->result", ending "Generate API Request:") and `expected_output`
("API-Request: [Name(key='value', …)]"). Evaluation data: never train on it.

Protocol (ours; the paper's API-Bank script is not public, method §5.3):
1. Tools: the API descriptions, as given (`name`, `description`, `input_parameters`, `output_parameters`). In
   level 2 that is only `ToolSearcher`; the API to call next is described in the ToolSearcher result in the
   history, as in the original "Retrieve+Call" setting.
2. Messages: "User:" -> user; "AI:" -> assistant; "API-Request: [call]->result" -> an assistant turn carrying the
   call (merged into the AI turn just before it, if any) and a tool turn holding the result text. The instruction
   preamble is replaced by our Tool-N1 system prompt, like every other benchmark here.
3. The model answers in our format; the LAST `<tool_call>` block is decoded (`tooln1.parsing`), think tags are
   not required. Correct means exactly one call, the gold API name, the same argument names, and equal values
   after normalisation.
4. Gold: `expected_output` parsed without `eval`. The text is not always valid Python (list values are quoted
   with nested single quotes, e.g. `attendees='['John', 'Jane']'`), so a quoted value ends at the first matching
   quote followed by `, name=` or the end. On all 534 items this equals the structured `param_dict` of the raw
   dialogues in `lv1-lv2-samples/` (a test checks it).
5. Normalisation, both sides: values compare as strings, because the original evaluator's regex parser passed
   every argument as a string (so `5` == `"5"`, `true` == `"True"`); surrounding whitespace is stripped; a string
   that reads as a Python list or dict literal (`ast.literal_eval`) is compared as that structure, element-wise
   with the same rules, so `["John", "Jane"]` == `"['John', 'Jane']"`. Names and everything else are exact.

Protocols (`tooln1 eval apibank --protocol`):
- `paper`: what the paper evaluates (method §5.3): "Call" mode only, i.e. level 1 (the API is described in the
  prompt; level 2 is "Retrieve+Call" through ToolSearcher), and no multi-turn cases, read here as: the dialogue
  before the call holds exactly one user turn (earlier API requests answering that same turn are kept). 61 of the
  399 level-1 items (`paper_protocol`). The paper's own script is not public, so this reading is ours.
- `full`: every API-call item of one level (399 in level 1, 135 in level 2).

Differences from the original evaluator, which executed both calls in its API sandbox and compared results with
per-API rules: we compare arguments, which is stricter where those rules were lenient (AddAgenda accepted
content with word overlap > 0.5; ToolSearcher accepted any keywords that retrieve the same tool, so level-2
ToolSearcher items are reported as their own category, `toolsearcher`, beside `api_call`).

Example:
    >>> parse_api_call("[AddMeeting(token='a1', attendees='['John', 'Jane']')]")
    ToolCall(name='AddMeeting', arguments={'token': 'a1', 'attendees': "['John', 'Jane']"})
    >>> normalize(["John", "Jane"]) == normalize("['John', 'Jane']")
    True
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tooln1.errors import UserError
from tooln1.eval.runner import EvalItem, Verdict
from tooln1.parsing import parse_completion
from tooln1.types import Sample, ToolCall

LEVELS = (1, 2)
REQUEST_PREFIX = "API-Request: "
CALL_RE = re.compile(r"\[(\w+)\((.*)\)\]", re.DOTALL)
KEY_RE = re.compile(r"\s*(\w+)\s*=\s*")
VALUE_END_RE = re.compile(r"\s*(?:,\s*\w+\s*=|$)")  # what may follow a value: the next `name=` or the end
NEXT_KEY_RE = re.compile(r",\s*\w+\s*=")
SEP_RE = re.compile(r"\s*,\s*")

NO_CALL = "apibank:no_call"
COUNT_MISMATCH = "apibank:count_mismatch"
NAME_MISMATCH = "apibank:name_mismatch"
ARG_NAMES_MISMATCH = "apibank:arg_names_mismatch"
ARG_VALUE_MISMATCH = "apibank:arg_value_mismatch"
UNSCORABLE = "apibank:value_too_deep"  # an argument nested too deep to normalise: wrong, and the run goes on


@dataclass(frozen=True)
class ApiBankCase:
    """One API-Call item: what the model sees (`item.sample`), the gold call, and where it came from."""

    item: EvalItem
    gold: ToolCall
    file: str
    source_id: int


def _parse_args(text: str) -> dict[str, str]:
    args: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        m = KEY_RE.match(text, pos)
        if not m:
            raise ValueError(f"expected name=value at {text[pos:pos + 30]!r}")
        key, pos = m.group(1), m.end()
        if pos < len(text) and text[pos] in "'\"":
            quote, end = text[pos], pos + 1
            while True:  # the closing quote is the first one followed by `, name=` or the end
                end = text.find(quote, end)
                if end < 0:
                    raise ValueError(f"unterminated value for {key!r}")
                if VALUE_END_RE.match(text, end + 1):
                    break
                end += 1
            args[key], pos = text[pos + 1 : end], end + 1
        else:
            m = NEXT_KEY_RE.search(text, pos)
            end = m.start() if m else len(text)
            args[key], pos = text[pos:end].strip(), end
        m = SEP_RE.match(text, pos)
        pos = m.end() if m else pos
    return args


def parse_api_call(text: str) -> ToolCall:
    """Parse `[Name(key='value', ...)]` (see the module docstring, rule 4); ValueError when it is not one."""
    m = CALL_RE.fullmatch(text.strip())
    if not m:
        raise ValueError(f"not an API request: {text[:80]!r}")
    return ToolCall(m.group(1), _parse_args(m.group(2)))


def parse_tools(instruction: str) -> list[dict[str, Any]]:
    """The JSON API descriptions after "API descriptions:" in an item's instruction, one per line."""
    _, sep, block = instruction.partition("API descriptions:")
    if not sep:
        raise ValueError("no 'API descriptions:' section")
    return [json.loads(line) for line in block.strip().splitlines() if line.strip()]


def parse_history(text: str) -> list[dict[str, Any]]:
    """The dialogue lines of an item's `input` as Sample messages (module docstring, rule 2)."""
    messages: list[dict[str, Any]] = []
    for line in text.splitlines():
        if line.startswith("User: "):
            messages.append({"role": "user", "content": line[len("User: ") :]})
        elif line.startswith("AI: "):
            messages.append({"role": "assistant", "content": line[len("AI: ") :]})
        elif line.startswith(REQUEST_PREFIX):
            call_text, sep, result = line[len(REQUEST_PREFIX) :].partition(")]->")
            if not sep:
                raise ValueError(f"API request without result: {line[:80]!r}")
            call = parse_api_call(call_text + ")]").to_dict()
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant" and not last.get("tool_calls"):
                last["tool_calls"] = [call]
            else:
                messages.append({"role": "assistant", "content": "", "tool_calls": [call]})
            messages.append({"role": "tool", "content": result})
        elif line.strip() and line.strip() != "Generate API Request:":
            raise ValueError(f"unexpected dialogue line: {line[:80]!r}")
    return messages


def data_file(data_dir: str | Path, level: int) -> Path:
    """`DIR/level-N-api.json`, or `DIR/test-data/level-N-api.json` when DIR is the api-bank folder itself."""
    if level not in LEVELS:
        raise UserError(f"unknown API-Bank level {level}; valid: 1, 2")
    root = Path(data_dir)
    if not root.is_dir():
        raise UserError(f"API-Bank data dir not found: {root}")
    name = f"level-{level}-api.json"
    for path in (root / name, root / "test-data" / name):
        if path.is_file():
            return path
    raise UserError(f"API-Bank file not found: {root / name}")


def load_cases(data_dir: str | Path, level: int, limit: int | None = None) -> list[ApiBankCase]:
    """The API-call items of one level, in file order; `limit` keeps the first N."""
    path = data_file(data_dir, level)
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise UserError(f"{path}: not JSON: {e}") from None
    cases = []
    for pos, row in enumerate(rows[:limit]):
        try:
            gold = parse_api_call(row["expected_output"].removeprefix(REQUEST_PREFIX))
            sample = Sample(
                id=f"L{level}-{pos:03d}", source=f"apibank:level-{level}", tools=parse_tools(row["instruction"]),
                messages=parse_history(row["input"]), gold=[gold], dialog=row["file"],
            )  # fmt: skip
        except (KeyError, TypeError, ValueError) as e:
            raise UserError(f"{path}: item {pos}: {type(e).__name__}: {e}") from None
        category = "toolsearcher" if gold.name == "ToolSearcher" else "api_call"
        cases.append(ApiBankCase(EvalItem(sample.id, category, sample), gold, row["file"], int(row["id"])))
    return cases


def is_single_turn(case: ApiBankCase) -> bool:
    """True when the dialogue before the call holds exactly one user turn (the paper excludes multi-turn cases)."""
    return sum(m["role"] == "user" for m in case.item.sample.messages) == 1


def paper_protocol(cases: list[ApiBankCase]) -> list[ApiBankCase]:
    """The items the paper's protocol keeps: level-1 ("Call" mode) single-turn items, in file order."""
    return [c for c in cases if c.item.sample.source == "apibank:level-1" and is_single_turn(c)]


def normalize(value: Any) -> Any:
    """The comparable form of an argument value (module docstring, rule 5). Total: any value a model can write
    gets a form (RecursionError aside, which `score` turns into a wrong answer with its own reason)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("[", "{")):
            try:
                return normalize(ast.literal_eval(text))  # a literal only: never evaluates code
            # TypeError: a literal Python cannot build, such as a set of lists `{[1], [2]}` (unhashable).
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                return text
        return text
    if isinstance(value, list | tuple):
        return [normalize(v) for v in value]
    if isinstance(value, set | frozenset):  # `{'a', 'b'}` reads as a set: unordered, so compared sorted
        return sorted(repr(normalize(v)) for v in value)
    if isinstance(value, dict):
        return {str(k): normalize(v) for k, v in value.items()}
    return str(value)  # numbers, booleans and None as the original string-only parser would have passed them


def score(case: ApiBankCase, completion: str) -> Verdict:
    """Exactly one call, the gold name, the same argument names, equal normalised values."""
    parsed = parse_completion(completion)
    calls = parsed.calls
    if calls is None:
        return Verdict(False, parsed.error, None)
    if not calls:
        return Verdict(False, NO_CALL, calls)
    if len(calls) != 1:
        return Verdict(False, COUNT_MISMATCH, calls)
    name, args = calls[0]["name"], calls[0]["arguments"]
    if name != case.gold.name:
        return Verdict(False, NAME_MISMATCH, calls)
    if not isinstance(args, dict) or set(args) != set(case.gold.arguments):
        return Verdict(False, ARG_NAMES_MISMATCH, calls)
    try:
        same = all(normalize(args[k]) == normalize(v) for k, v in case.gold.arguments.items())
    except RecursionError:
        return Verdict(False, UNSCORABLE, calls)
    return Verdict(same, None if same else ARG_VALUE_MISMATCH, calls)

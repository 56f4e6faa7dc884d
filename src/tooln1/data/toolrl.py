"""ToolRL adapter (qiancheng0/ToolRL "rlla" files): the verl RL parquet and the SFT JSON, one sample per row.

Both forms hold the same three texts. The system text lists the tools as numbered blocks
"N. Name: …\\nDescription: …\\nParameters: {json}"; the user text is "**Dialogue Records History**" followed by
`<user>`, `<think>`, `<tool_call>`, `<obs>` and `<response>` blocks; the target holds `<think>` then a
`<tool_call>` block with one JSON object per line, keyed `parameters` (not `arguments`), and/or a `<response>`.

    SFT row:  {"instruction": "... 1. Name: GetNews\\nDescription: Azure news\\nParameters: {\\"page\\": {...}} ...",
               "input": "**Dialogue Records History**\\n<user> Latest Azure news? </user>",
               "output": "<think> ... </think>\\n<tool_call>\\n{\\"name\\": \\"GetNews\\", \\"parameters\\":
                          {\\"page\\": \\"1\\"}}\\n</tool_call>"}
    verl row: {"prompt": [...], "reward_model": {"ground_truth": <output>}, "extra_info": {"instruction": ...,
               "input": ...}}

gives `Sample(tools=[{"name": "GetNews", "description": "Azure news", "parameters": {"page": {...}}}],
messages=[user("Latest Azure news?")], gold=[ToolCall("GetNews", {"page": "1"})])`.

Example:
    $ tooln1 data build --source toolrl=../shared/data/toolrl-rlla/rlla_4k_test.parquet --out data/toolrl

Choices: a target with only a `<response>` (ToolRL's refusal / clarification turns) becomes a no-call sample,
gold `[]`, because ToolRL's own data marks that step as "answer without a call"; Tool-N1 scores it as
`<tool_call>[]</tool_call>`. `<think>` blocks in the history are dropped (the RL file's are placeholders, and
Tool-N1 histories carry no reasoning). The SFT file's distilled reasoning becomes `Sample.reasoning`; the verl
file's placeholder thought does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from tooln1.data.dialog import assistant_calls, assistant_text, tool, user
from tooln1.data.reading import Record, read_records
from tooln1.data.records import RECORD_UNPARSEABLE, BadRecord, call_list, decode_json, field, tool_list
from tooln1.types import Sample

NAME = "toolrl"
HUB_ID = None  # ToolRL publishes its data on GitHub only: give a local path
CHECK_TOOL_MEMBERSHIP = True
TOOL_RE = re.compile(r"^\d+\. Name: (.*)\nDescription: (.*)\nParameters: (.*)$", re.MULTILINE)
BLOCK_RE = re.compile(r"<(user|think|tool_call|obs|response)>(.*?)</\1>", re.DOTALL)
THINK_RE = re.compile(r"<think>(.*?)</think>", re.DOTALL)


def parse_tools(system: str) -> list[dict[str, Any]]:
    """The numbered "N. Name / Description / Parameters" tool blocks of a ToolRL system text."""
    tools = []
    for name, description, params in TOOL_RE.findall(system):
        parameters = decode_json(params, f"parameters of tool {name.strip()!r}")
        tools.append({"name": name.strip(), "description": description.strip(), "parameters": parameters})
    return tool_list(tools)


def _calls(block: str) -> list[Any]:
    """One JSON call object per non-empty line of a `<tool_call>` block, `parameters` read as arguments."""
    items = [decode_json(line, "tool_call line") for line in block.strip().splitlines() if line.strip()]
    return call_list(items, args_key="parameters")


def parse_history(text: str) -> list[dict[str, Any]]:
    """History messages from the "**Dialogue Records History**" text."""
    messages = []
    for tag, body in BLOCK_RE.findall(text):
        if tag == "user":
            messages.append(user(body.strip()))
        elif tag == "tool_call":
            messages.append(assistant_calls(_calls(body)))
        elif tag == "obs":
            messages.append(tool(body.strip()))
        elif tag == "response":
            messages.append(assistant_text(body.strip()))
    return messages


def _texts(raw: Any) -> tuple[str, str, str, bool]:
    """(system, history, target, has_real_reasoning) of either row form."""
    if isinstance(raw, dict) and "reward_model" in raw:
        info = field(raw, "extra_info") or {}
        target = field(raw, "reward_model")
        if not isinstance(info, dict) or not isinstance(target, dict):
            raise BadRecord(RECORD_UNPARSEABLE, "'extra_info' and 'reward_model' must be objects")
        texts = (info.get("instruction"), info.get("input"), target.get("ground_truth"), False)
    else:
        texts = (field(raw, "instruction"), field(raw, "input"), field(raw, "output"), True)
    if not all(isinstance(t, str) for t in texts[:3]):
        raise BadRecord(RECORD_UNPARSEABLE, "instruction, input and target must be strings")
    return texts


def convert(raw: Any, key: str = "0") -> list[Sample]:
    """The one sample of a ToolRL row; raises `BadRecord` for a malformed row."""
    system, history, target, has_reasoning = _texts(raw)
    tools = parse_tools(system)
    blocks = {tag: body for tag, body in reversed(BLOCK_RE.findall(target))}  # the first block of each tag wins
    if "tool_call" in blocks:
        gold = _calls(blocks["tool_call"])
    elif "response" in blocks:
        gold = []
    else:
        raise BadRecord(RECORD_UNPARSEABLE, "target has neither <tool_call> nor <response>")
    think = THINK_RE.search(target)
    reasoning = think.group(1).strip() if think and has_reasoning else None
    dialog = f"{NAME}-{key}"
    return [Sample(dialog, NAME, tools, parse_history(history), gold, dialog=dialog, reasoning=reasoning)]


def load(ref: str) -> Iterator[Record]:
    """Raw rows of a local parquet (verl) or JSON (SFT) file."""
    return read_records(ref)

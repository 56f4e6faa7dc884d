"""xLAM adapter (`Salesforce/xlam-function-calling-60k`): one single-turn sample per row (method §1.3).

Raw row (hub format; `tools` and `answers` are JSON strings on the hub, objects in some local copies):

    {"id": 0, "query": "Where can I find live giveaways for beta access?",
     "tools": "[{\\"name\\": \\"live_giveaways_by_type\\", \\"description\\": \\"Retrieve live giveaways\\",
                \\"parameters\\": {\\"type\\": {\\"description\\": \\"beta or game\\", \\"type\\": \\"str\\"}}}]",
     "answers": "[{\\"name\\": \\"live_giveaways_by_type\\", \\"arguments\\": {\\"type\\": \\"beta\\"}}]"}

becomes `Sample(id="xlam-0", tools=<the list>, messages=[{"role": "user", "content": <query>}],
gold=[ToolCall("live_giveaways_by_type", {"type": "beta"})])`: all calls of the row in their original order.

Example:
    $ tooln1 data build --source xlam=Salesforce/xlam-function-calling-60k --out data/xlam

The paper applies no filter to xLAM (60,000 rows in, 60,000 out, §1.3 step 5); in particular the "gold call
names a tool absent from the tool list" filter is NOT applied to xLAM, so CHECK_TOOL_MEMBERSHIP is False.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tooln1.data.dialog import user
from tooln1.data.reading import Record, read_records
from tooln1.data.records import call_list, json_field, text_field, tool_list
from tooln1.types import Sample

NAME = "xlam"
HUB_ID = "Salesforce/xlam-function-calling-60k"
CHECK_TOOL_MEMBERSHIP = False  # the paper does not filter xLAM by tool membership (§1.3 step 5)


def convert(raw: Any, key: str = "0") -> list[Sample]:
    """The one sample of an xLAM row; raises `BadRecord` when a field is missing or malformed."""
    query = text_field(raw, "query")
    tools = tool_list(json_field(raw, "tools"))
    gold = call_list(json_field(raw, "answers"))
    dialog = f"{NAME}-{key}"
    return [Sample(dialog, NAME, tools, [user(query)], gold, dialog=dialog)]


def load(ref: str = HUB_ID) -> Iterator[Record]:
    """Raw rows of a hub id or a local JSON / JSONL / parquet file."""
    return read_records(ref)

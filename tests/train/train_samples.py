"""Hand-made samples for the training tests: 8 short tool-calling tasks (single, multiple, parallel, no call).

Example:
    from train_samples import make_samples
    samples = make_samples()
"""

from __future__ import annotations

from pathlib import Path

from tooln1.types import Sample, ToolCall

REPO = Path(__file__).resolve().parents[2]
TINY_RECIPE = REPO / "configs" / "tiny_ci.yaml"

WEATHER = {"name": "get_weather", "description": "Current weather in a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
STOCK = {"name": "get_stock_price", "description": "Latest price of a stock",
         "parameters": {"type": "object", "properties": {"symbol": {"type": "string"}}, "required": ["symbol"]}}
FX = {"name": "convert_currency", "description": "Convert an amount between currencies",
      "parameters": {"type": "object", "properties": {"amount": {"type": "number"}, "from": {"type": "string"},
                                                      "to": {"type": "string"}}, "required": ["amount", "from", "to"]}}
MAIL = {"name": "send_email", "description": "Send an email",
        "parameters": {"type": "object", "properties": {"to": {"type": "string"}, "subject": {"type": "string"}},
                       "required": ["to", "subject"]}}  # fmt: skip

QUERIES = [
    ("What's the weather in Paris?", [WEATHER, STOCK], [ToolCall("get_weather", {"city": "Paris"})]),
    ("Price of AAPL stock please", [STOCK, MAIL], [ToolCall("get_stock_price", {"symbol": "AAPL"})]),
    ("Convert 100.5 USD to EUR", [FX, WEATHER], [ToolCall("convert_currency", {"amount": 100.5, "from": "USD",
                                                                             "to": "EUR"})]),
    ("Email bob@x.com with subject Hello", [MAIL], [ToolCall("send_email", {"to": "bob@x.com", "subject": "Hello"})]),
    ("Weather in Tokyo now?", [WEATHER], [ToolCall("get_weather", {"city": "Tokyo"})]),
    ("Tell me a joke", [STOCK, WEATHER], []),
    ("How is TSLA trading?", [STOCK, WEATHER], [ToolCall("get_stock_price", {"symbol": "TSLA"})]),
    ("Weather in Oslo and Lima?", [WEATHER], [ToolCall("get_weather", {"city": "Oslo"}),
                                              ToolCall("get_weather", {"city": "Lima"})]),
]  # fmt: skip


def make_samples() -> list[Sample]:
    return [
        Sample(f"t{i}", "test", tools, [{"role": "user", "content": q}], gold,
               reasoning="The user asks for the weather." if i == 0 else None)
        for i, (q, tools, gold) in enumerate(QUERIES)
    ]  # fmt: skip



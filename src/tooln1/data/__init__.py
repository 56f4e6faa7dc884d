"""Data pipeline (method §1): source adapters, filters, split, augmentations, exports and synthetic tasks.

`SOURCES` maps each `--source` name to its adapter module. Every adapter has a pure
`convert(raw, key) -> list[Sample]` (raising `records.BadRecord` with a reason code), an I/O `load(ref)` that
takes a hub id or a local JSON / JSONL / parquet path, `HUB_ID` (default for `--source NAME` alone, or None) and
`CHECK_TOOL_MEMBERSHIP`.

Example:
    $ tooln1 data build --source xlam=Salesforce/xlam-function-calling-60k --source toolace=Team-ACE/ToolACE \\
          --out data/tooln1 --max-prompt-tokens 4096 --tokenizer Qwen/Qwen2.5-7B-Instruct
    $ tooln1 data check data/tooln1
"""

from tooln1.data import openai, sharegpt, toolace, toolrl, xlam

SOURCES = {
    "xlam": xlam,
    "toolace": toolace,
    "sharegpt": sharegpt,
    "toolrl": toolrl,
    "openai": openai,
}

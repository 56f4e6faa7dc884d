"""Evaluation: BFCL and ACEBench with their own checkers, API-Bank and the held-out split; local or served.

Every benchmark turns its items into `tooln1.types.Sample`s, so one prompt path (`tooln1.prompt`) and one parser
(`tooln1.parsing`) serve all of them and agree with training. Modules:

- `backends`: the `hf` (transformers) and `vllm` backends, and the generation settings they share;
- `openai_backend`: any OpenAI-compatible server (`/v1/completions` with our rendered prompt, or chat);
- `runner`: resumable runs (results appended as they finish, a rerun skips finished items) with a progress bar;
- `bfcl`, `acebench`, `apibank`, `heldout`: one benchmark each (load items, score one completion, summarise);
- `report`: per-category tables, the paper's aggregates and the comparison with the paper's Table 2;
- `cli`: `tooln1 eval bfcl|bfcl-score|apibank|acebench|heldout|report`.

Example:
    $ tooln1 eval bfcl --model bundled --backend hf --categories simple_python --limit 4 --out runs/bfcl
"""

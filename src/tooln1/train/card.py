"""The model card (README.md) written next to a run's final model: data, config, final metrics, cost.

Example (RUN/README.md, abridged):

    # tooln1 GRPO model: runs/demo-grpo
    Base model: /root/.cache/tooln1/gemma-3-270m · reward: binary · steps: 24
    ## Data
    runs/data/train.jsonl: 400 samples, 400 kept, 0 dropped (prompt > 4096 tokens)
    ## Final metrics (mean of the last 3 logged steps)
    | metric | value |
    | reward | 0.41 |
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tooln1.train.callbacks import PLOT_FILE, read_metrics
from tooln1.train.config import TrainConfig

# The metrics a card reports, per mode, in this order (those a run did not log are left out).
CARD_METRICS = {
    "grpo": ("reward", "reason/ok", "format_rate", "think_rate", "name_match_rate", "kl", "entropy",
             "completions/mean_length", "completions/clipped_ratio", "frac_reward_zero_std", "step_seconds",
             "rss_gib"),
    "sft": ("loss", "mean_token_accuracy", "grad_norm", "step_seconds", "rss_gib"),
}  # fmt: skip
LAST_N = 3


def _mean_last(metrics: list[dict[str, Any]], key: str) -> float | None:
    values = [m[key] for m in metrics if isinstance(m.get(key), (int, float))][-LAST_N:]
    return sum(values) / len(values) if values else None


def render_card(cfg: TrainConfig, base_model: str, data_report: dict[str, Any], summary: dict[str, Any]) -> str:
    """The card text. `data_report` is from `tooln1.train.data.build_dataset` (+ "file"); `summary` is the
    trainer's final log (train_runtime, ...) plus peak RSS."""
    run = Path(cfg.output_dir)
    metrics = read_metrics(run)
    first = metrics[0] if metrics else {}
    rows = []
    for key in CARD_METRICS[cfg.mode]:
        last = _mean_last(metrics, key)
        if last is not None:
            start = first.get(key)
            rows.append(f"| {key} | {start if start is None else f'{start:.4g}'} | {last:.4g} |")
    target = f"reward variant: `{cfg.reward}`" if cfg.mode == "grpo" else f"SFT target: `{cfg.sft_target}`"
    steps = summary.get("step", metrics[-1]["step"] if metrics else 0)
    weights = f"LoRA {cfg.lora} (merged into these weights)" if cfg.lora else "full fine-tuning"
    lines = [
        f"# tooln1 {cfg.mode.upper()} model: {run}",
        "",
        f"Base model: `{base_model}` · {target} · optimizer steps: {steps} · {weights}",
        "",
        "Trained with `tooln1 train` (Tool-N1 re-implementation on TRL). The model answers in the Tool-N1 format "
        "`<think>…</think><tool_call>[{\"name\": …, \"arguments\": {…}}]</tool_call>` for the prompt built by "
        "`tooln1.prompt.render_prompt`.",
    ]
    if cfg.stop_tokens:
        lines += ["", f"Generation stops at {cfg.stop_tokens!r} as well as EOS (added to generation_config.json)."]
    lines += [
        "",
        "## Data",
        "",
        f"`{data_report['file']}`: {data_report['samples']} samples, {data_report['kept']} kept, "
        f"{data_report['dropped_long_prompt']} dropped (prompt > {cfg.max_prompt_tokens} tokens)"
        + (f", {data_report['dropped_no_call']} with gold `[]` left out (`calls_only`)."
           if data_report.get("dropped_no_call") else "."),
        "",
        f"## Metrics (first logged step, and mean of the last {LAST_N})",
        "",
        "| metric | first | last |",
        "|---|---|---|",
        *rows,
        "",
        f"Run time {summary.get('train_runtime', float('nan')):.0f} s, peak RSS "
        f"{summary.get('peak_rss_gib', float('nan')):.2f} GiB. Curves: `{PLOT_FILE}`; every logged step: "
        "`metrics.jsonl`; TensorBoard: `runs/`.",
        "",
        "## Config",
        "",
        "```yaml",
        cfg.to_yaml().rstrip(),
        "```",
        "",
    ]
    return "\n".join(lines)

"""Multi-turn GRPO on executable environments, through TRL's own agent loop (`GRPOTrainer(environment_factory=…)`).

Data: a `tooln1 data synth --multi-turn` folder (train.jsonl of `MultiTurnTask`s; `tooln1 train grpo` switches
to this module when the data file holds such tasks). Each row becomes a conversational prompt (the Tool-N1
system text with the environment's tools, then the user turn), the environment's name (TRL picks the factory by
it, so each rollout gets its own fresh `tooln1.data.mt_envs` instance) and the task as JSON (TRL hands every
column to the environment's `reset`). TRL generates, parses the reply's tool calls, calls the environment's
methods with the JSON arguments (plain method calls, no `eval`), appends the results as tool messages and
generates again, at most `max_tool_calling_iterations` times (a `grpo:` setting), within `max_completion_length`
tokens in all; tool-result tokens are masked out of the loss.

What TRL needs from the tokenizer, and what we give it:
- a chat template that renders tool calls and tool messages and keeps prefixes: `TOOL_CHAT_TEMPLATE`, our plain
  template plus `<tool_call>[…]</tool_call>` for assistant tool calls (set only when the model uses the plain
  template; a model with its own tool-aware template keeps it);
- a parser from the generated tokens to `tool_calls`: `parse_response` is set on the tokenizer instance to
  `tooln1.parsing.parse_completion` (Tool-N1's own rule: the last `<tool_call>` block, a JSON list), and a
  `response_template` marker tells TRL not to guess one for an unknown template.

Reward: `MultiTurnReward` gives `tooln1.rewards_multiturn.outcome_score` per rollout from the environment's final
state and call log, and logs per batch the rate of each reason code, the replies (turns) per rollout, the executed
tool calls and tool errors per rollout (TRL adds `tools/call_frequency` and `tools/failure_frequency`).

Example:
    $ tooln1 data synth --multi-turn --n 200 --out runs/mt-data
    $ tooln1 train grpo --config configs/cpu_demo.yaml --data runs/mt-data --max_tool_calling_iterations 3
"""

from __future__ import annotations

import json
import logging
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tooln1.data import mt_envs
from tooln1.data.synth_multiturn import FORMAT, MultiTurnTask
from tooln1.errors import UserError
from tooln1.parsing import parse_completion
from tooln1.prompt import PLAIN_CHAT_TEMPLATE, PromptTemplate, system_prompt
from tooln1.rewards_multiturn import REASON_CODES, outcome_score
from tooln1.train.config import TrainConfig

logger = logging.getLogger(__name__)

# PLAIN_CHAT_TEMPLATE (tooln1.prompt) with a BOS first (TRL tokenizes the rendered chat without adding special
# tokens) and assistant tool calls written as Tool-N1's one JSON list. Messages without tool calls render exactly
# as in the plain template, so a prompt reads the same in training and in `tooln1 eval multi-turn`.
TOOL_CHAT_TEMPLATE = (
    "{{- bos_token -}}"
    "{%- for m in messages -%}"
    "{%- if m['role'] == 'system' -%}{{ m['content'] }}{{ '\\n\\n' }}"
    "{%- elif m['role'] == 'user' -%}{{ 'User: ' + m['content'] + '\\n\\n' }}"
    "{%- elif m['role'] == 'assistant' -%}{{ 'Assistant: ' + (m['content'] or '') }}"
    "{%- if m.get('tool_calls') -%}{{ '\\n' if m['content'] }}<tool_call>["
    "{%- for c in m['tool_calls'] -%}{%- set f = c['function'] if c.get('function') else c -%}"
    "{{ ', ' if not loop.first }}{\"name\": {{ f['name'] | tojson }}, \"arguments\": {{ f['arguments'] | tojson }}}"
    "{%- endfor -%}]</tool_call>{%- endif -%}{{ '\\n\\n' }}"
    "{%- elif m['role'] == 'tool' -%}{{ 'Tool: ' + m['content'] + '\\n\\n' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ 'Assistant:' }}{%- endif -%}"
)


def is_multi_turn_data(path: str | Path) -> bool:
    """True when the training data file's first line is a multi-turn task."""
    from tooln1.train.data import data_file

    with data_file(path).open(encoding="utf-8") as f:
        first = f.readline()
    try:
        return json.loads(first).get("format") == FORMAT
    except (ValueError, AttributeError):
        return False


def read_tasks(path: str | Path, limit: int | None = None) -> list[MultiTurnTask]:
    from tooln1.eval.synth_multiturn import read_tasks as read
    from tooln1.train.data import data_file

    return read(data_file(path))[:limit]


def build_dataset(tasks: Sequence[MultiTurnTask], template: PromptTemplate) -> tuple[Any, dict[str, int]]:
    """TRL rows: conversational `prompt`, `environment` (a `mt_envs` name) and `task` (JSON, read by `reset`)."""
    from datasets import Dataset

    schemas = {name: mt_envs.tool_schemas(name) for name in {t.env for t in tasks}}
    rows = {
        "prompt": [[{"role": "system", "content": system_prompt(schemas[t.env], template)}, *t.turns[0]]
                   for t in tasks],
        "environment": [t.env for t in tasks],
        "task": [json.dumps(t.to_dict()) for t in tasks],
    }  # fmt: skip
    if any(len(t.turns) != 1 for t in tasks):
        # TRL's loop runs one user turn per rollout; later user turns would need a rollout function of our own.
        raise UserError("multi-turn GRPO takes tasks with one user turn (TRL's tool loop has no later user turns)")
    return Dataset.from_dict(rows), {"samples": len(tasks), "kept": len(tasks), "dropped_long_prompt": 0}


def _parse_response(tokenizer: Any, response: Any, schema: Any = None, *, prefix: Any = None,
                    tools: Any = None) -> dict[str, Any]:  # fmt: skip
    """`tokenizer.parse_response` for TRL's tool loop: Tool-N1's parser on the decoded reply."""
    text = response if isinstance(response, str) else tokenizer.decode(response, skip_special_tokens=True)
    message: dict[str, Any] = {"role": "assistant", "content": text}
    calls = parse_completion(text).calls
    if calls:
        message["tool_calls"] = [{"type": "function", "function": {
            "name": c["name"] if isinstance(c["name"], str) else repr(c["name"]), "arguments": c["arguments"]}}
            for c in calls]  # fmt: skip
    return message


def prepare_tokenizer(tokenizer: Any) -> Any:
    """Give the tokenizer what TRL's tool loop needs (module docstring); returns it."""
    if not tokenizer.chat_template or tokenizer.chat_template == PLAIN_CHAT_TEMPLATE:
        tokenizer.chat_template = TOOL_CHAT_TEMPLATE
    tokenizer.parse_response = types.MethodType(_parse_response, tokenizer)
    # Any value stops TRL from looking up a template of its own; `_parse_response` ignores it.
    tokenizer.response_template = {"tooln1": "parse_completion"}
    return tokenizer


class MultiTurnReward:
    """TRL reward function over finished rollouts: `environments` come from TRL, one per completion."""

    __name__ = "multi_turn_outcome"

    def __call__(self, completions: list[Any], environments: list[Any] | None = None, log_metric: Any = None,
                 **_: Any) -> list[float]:  # fmt: skip
        if environments is None:
            raise ValueError("MultiTurnReward needs TRL's environments (environment_factory)")
        results, replies, calls, errors = [], [], [], []
        for completion, env in zip(completions, environments, strict=True):
            texts = [m.get("content") or "" for m in completion if m.get("role") == "assistant"]
            results.append(outcome_score(env._task, env._state(), env._log, texts))
            replies.append(len(texts))
            calls.append(len(env._log))
            errors.append(sum("error" in e for e in env._log))
        if log_metric is not None and results:
            n = len(results)
            for code in REASON_CODES:
                log_metric(f"reason/{code}", sum(r.reason == code for r in results) / n)
            log_metric("multi_turn/replies_per_rollout", sum(replies) / n)
            log_metric("multi_turn/tool_calls_per_rollout", sum(calls) / n)
            log_metric("multi_turn/tool_errors_per_rollout", sum(errors) / n)
            log_metric("multi_turn/min_tool_calls", float(min(calls)))
        return [r.score for r in results]


def build_trainer(cfg: TrainConfig, args: Any, model: Any, tokenizer: Any, dataset: Any, peft_config: Any,
                  callbacks: Sequence[Any]) -> Any:  # fmt: skip
    """A `trl.GRPOTrainer` with one environment factory per `mt_envs` environment."""
    import os

    from trl import GRPOTrainer

    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # the experimental-API warning, once per run
    if cfg.rollout is not None:
        # TRL's agent loop generates multi-turn rollouts itself; our rollout_func (shared prefill, refill) is for
        # single-step prompts.
        logger.warning("`rollout:` %s is not used for multi-turn data: TRL's environment loop generates", cfg.rollout)
    return GRPOTrainer(
        model=model,
        reward_funcs=MultiTurnReward(),
        args=args,
        train_dataset=dataset,
        processing_class=prepare_tokenizer(tokenizer),
        peft_config=peft_config,
        callbacks=list(callbacks),
        environment_factory=dict(mt_envs.ENVIRONMENTS),
    )

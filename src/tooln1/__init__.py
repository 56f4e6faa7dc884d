"""tooln1: teach language models to call tools with rule-based RL, the method of Nemotron-Research-Tool-N1.

Example:
    >>> from tooln1 import score
    >>> score('<think>x</think><tool_call>[]</tool_call>', "[]").score
    1.0
"""

from tooln1.parsing import ParsedCompletion, parse_completion
from tooln1.prompt import build_messages, canonical_completion, format_calls, render_prompt, system_prompt
from tooln1.rewards import RewardResult, TrlReward, compute_score, score
from tooln1.types import Sample, ToolCall

__all__ = [
    "ParsedCompletion",
    "RewardResult",
    "Sample",
    "ToolCall",
    "TrlReward",
    "build_messages",
    "canonical_completion",
    "compute_score",
    "format_calls",
    "parse_completion",
    "render_prompt",
    "score",
    "system_prompt",
]

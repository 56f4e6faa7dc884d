"""The file verl's `custom_reward_function.path` points at: it only re-exports `tooln1.rewards.compute_score`.

Example (what scripts/verl_grpo_tool_n1.sh passes):
    custom_reward_function.path=$(python3 -c 'import tooln1.train.verl_reward as m; print(m.__file__)')
    custom_reward_function.name=compute_score

verl imports this file by path under the name "custom_module". Some verl versions do not register that name in
`sys.modules` before executing the file, and a module defining dataclasses (as tooln1.rewards does) cannot be
executed that way; a file that only imports from the installed package loads under every version.
"""

from tooln1.rewards import compute_score

__all__ = ["compute_score"]

"""Run inside the verl virtualenv (scripts/verl_env.sh): score responses the way verl's reward worker does.

Example (what tests/train/test_train_verl.py runs):
    ~/.cache/tooln1/verl-0.9.1/bin/python tests/train/verl_probe.py train.parquet CASES.json CFG.yaml [CFG.yaml ...]

Each CFG.yaml is the output of `bash scripts/verl_grpo_tool_n1.sh --cfg job` (Hydra's composed config); CASES.json
is a list of {"row": i, "response": text}. The config goes through verl's own `get_custom_reward_fn` and
`RewardLoopWorker` (which builds the reward manager with `load_reward_manager` and the tokenizer named by
`actor_rollout_ref.model.path`); each response is tokenised, put in a `DataProto` with its parquet row's
`data_source`, `reward_model` and `extra_info`, and scored by `RewardLoopWorker.compute_score_batch`.
Prints one JSON line per config: the loaded function's module and name, the manager class and the scores.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pyarrow.parquet as pq
import torch
from omegaconf import OmegaConf

import verl
from verl import DataProto
from verl.experimental.reward_loop.reward_loop import RewardLoopWorker
from verl.trainer.ppo.reward import get_custom_reward_fn


def score(cfg_path: str, parquet: str, cases_path: str) -> dict:
    config = OmegaConf.load(cfg_path)
    fn = get_custom_reward_fn(config)
    raw = fn.args[0] if fn is not None else None  # partial(_call_with_kwargs, raw_fn, reward_kwargs)
    worker = RewardLoopWorker(config)
    tok = worker.input_tokenizer
    rows = pq.read_table(parquet).to_pylist()
    cases = json.loads(open(cases_path, encoding="utf-8").read())
    prompt_ids = tok("user: call the tool", add_special_tokens=False).input_ids
    responses = [tok(c["response"], add_special_tokens=False).input_ids + [tok.eos_token_id] for c in cases]
    width = max(map(len, responses))
    resp = torch.full((len(cases), width), tok.pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(cases), len(prompt_ids) + width), dtype=torch.long)
    mask[:, : len(prompt_ids)] = 1
    for i, ids in enumerate(responses):  # right-padded responses, as verl's rollout leaves them
        resp[i, : len(ids)] = torch.tensor(ids)
        mask[i, len(prompt_ids) : len(prompt_ids) + len(ids)] = 1
    prompts = torch.tensor([prompt_ids] * len(cases))
    picked = [rows[c["row"]] for c in cases]
    data = DataProto.from_dict(
        tensors={"prompts": prompts, "responses": resp, "input_ids": torch.cat([prompts, resp], 1),
                 "attention_mask": mask},
        non_tensors={k: np.array([r[k] for r in picked], dtype=object)
                     for k in ("data_source", "reward_model", "extra_info")},
    )  # fmt: skip
    # the manager awaits executor futures on the loop it captured (verl.utils.ray_utils.get_event_loop)
    outputs = worker.loop.run_until_complete(worker.compute_score_batch(data))
    return {
        "verl": verl.__version__,
        "function": f"{raw.__module__}.{raw.__name__}" if raw is not None else None,
        "reward_kwargs": dict(fn.args[1]) if fn is not None else None,
        "manager": type(worker.reward_manager).__name__,
        "scores": [o["reward_score"] for o in outputs],
        "extra": [o["reward_extra_info"] for o in outputs],
    }  # fmt: skip


if __name__ == "__main__":
    parquet, cases, *configs = sys.argv[1:]
    for cfg in configs:
        print(json.dumps(score(cfg, parquet, cases)), flush=True)

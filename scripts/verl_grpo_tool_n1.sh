#!/usr/bin/env bash
# Tool-N1 GRPO on verl (Ray), the paper's own backend: the launch of method §4.2 (NVlabs/Tool-N1 qwen_rl.sh,
# paper Table 6) with our data and reward. Needs GPUs, verl and vLLM (not installed by tooln1):
#
#   tooln1 data build --source xlam=Salesforce/xlam-function-calling-60k --source toolace=Team-ACE/ToolACE \
#       --out runs/data --max-prompt-tokens 4096 --tokenizer Qwen/Qwen2.5-7B-Instruct
#   tooln1 export verl --data runs/data --out runs/verl          # train.parquet / test.parquet
#   MODEL=Qwen/Qwen2.5-7B-Instruct DATA=runs/verl bash scripts/verl_grpo_tool_n1.sh [extra Hydra overrides]
#
# Multi-node (paper: 4 nodes x 8 H100): start Ray (`ray start --head` / `ray start --address=HEAD:6379`), then
# NNODES=4 bash scripts/verl_grpo_tool_n1.sh. The reward is tooln1.rewards.compute_score (binary, think + exact
# call match; verl's naive reward manager passes the decoded response, data_source, ground_truth and extra_info).
# Written against current verl's documented config (the keys are checked in tests/train/test_train_verl.py), not
# the verl 0.2 fork vendored by the official code; every setting below is the paper's (method §4.2).
set -euo pipefail

MODEL=${MODEL:-Qwen/Qwen2.5-7B-Instruct}
DATA=${DATA:-runs/verl}
NNODES=${NNODES:-1}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
OUT=${OUT:-runs/verl_tool_n1}
REWARD_VARIANT=${REWARD_VARIANT:-binary}
PYTHON=${PYTHON:-python3}
REWARD_FILE=${REWARD_FILE:-$("$PYTHON" -c 'import tooln1.train.verl_reward as m; print(m.__file__)')}

"$PYTHON" -m verl.trainer.main_ppo \
    algorithm.adv_estimator=grpo \
    algorithm.norm_adv_by_std_in_grpo=True \
    algorithm.use_kl_in_reward=False \
    data.train_files="$DATA/train.parquet" \
    data.val_files="$DATA/test.parquet" \
    data.prompt_key=prompt \
    data.train_batch_size=1024 \
    data.max_prompt_length=4096 \
    data.max_response_length=8192 \
    data.filter_overlong_prompts=True \
    data.truncation=error \
    actor_rollout_ref.model.path="$MODEL" \
    actor_rollout_ref.model.lora_rank=0 \
    actor_rollout_ref.model.use_remove_padding=True \
    actor_rollout_ref.model.enable_gradient_checkpointing=True \
    actor_rollout_ref.actor.strategy=fsdp \
    actor_rollout_ref.actor.optim.lr=1e-6 \
    actor_rollout_ref.actor.optim.weight_decay=0.01 \
    actor_rollout_ref.actor.grad_clip=1.0 \
    actor_rollout_ref.actor.ppo_mini_batch_size=256 \
    actor_rollout_ref.actor.ppo_epochs=1 \
    actor_rollout_ref.actor.use_dynamic_bsz=True \
    actor_rollout_ref.actor.ppo_max_token_len_per_gpu=30720 \
    actor_rollout_ref.actor.clip_ratio=0.2 \
    actor_rollout_ref.actor.loss_agg_mode=token-mean \
    actor_rollout_ref.actor.use_kl_loss=True \
    actor_rollout_ref.actor.kl_loss_coef=0.001 \
    actor_rollout_ref.actor.kl_loss_type=low_var_kl \
    actor_rollout_ref.actor.entropy_coeff=0 \
    actor_rollout_ref.rollout.name=vllm \
    actor_rollout_ref.rollout.n=5 \
    actor_rollout_ref.rollout.temperature=0.7 \
    actor_rollout_ref.rollout.top_p=1.0 \
    actor_rollout_ref.rollout.tensor_model_parallel_size=2 \
    actor_rollout_ref.rollout.gpu_memory_utilization=0.6 \
    actor_rollout_ref.rollout.val_kwargs.do_sample=False \
    actor_rollout_ref.ref.fsdp_config.param_offload=True \
    reward.reward_manager.name=naive \
    reward.custom_reward_function.path="$REWARD_FILE" \
    reward.custom_reward_function.name=compute_score \
    ++reward.custom_reward_function.reward_kwargs.variant="$REWARD_VARIANT" \
    trainer.nnodes="$NNODES" \
    trainer.n_gpus_per_node="$GPUS_PER_NODE" \
    trainer.total_epochs=7 \
    trainer.save_freq=10 \
    trainer.test_freq=10 \
    trainer.val_before_train=False \
    trainer.project_name=tool_n1 \
    trainer.experiment_name="$(basename "$MODEL")" \
    trainer.default_local_dir="$OUT" \
    trainer.logger='[console,tensorboard]' \
    "$@"

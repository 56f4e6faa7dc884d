"""One training run, GRPO or SFT: run folder, model, data, trainer, resume, final model and card.

Example:
    >>> from tooln1.train.config import load_config
    >>> cfg = load_config("configs/tiny_ci.yaml", ["--data", "runs/data", "--model", "runs/tiny"], mode="grpo")
    >>> run_dir = train(cfg)                                  # doctest: +SKIP
    >>> run_dir = train(cfg, resume=True)                     # continue from the latest checkpoint  # doctest: +SKIP

The run folder (`output_dir`) holds: config.yaml (the resolved recipe), metrics.jsonl, runs/ (TensorBoard),
training_curves.png, checkpoint-N/ (every `save_steps`), train_summary.json, and at the end the final model with
its tokenizer and README.md (model card). With LoRA the adapter is merged into the saved weights (the paper
merged its LoRA SFT model before RL, method §7), so an SFT run folder is directly a `--model` for GRPO.

On CPU, TRL's fused LM head is made to score completion positions only (`score_labelled_positions_only`, a
measured ~2.8x faster GRPO step with the bundled model; identical results).
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tooln1.errors import UserError
from tooln1.train.config import TrainConfig

logger = logging.getLogger(__name__)

CONFIG_FILE = "config.yaml"
# TRL versions whose private `trl.trainer.utils._use_triton` the CPU LM-head patch was measured on.
LM_HEAD_PATCH_TRL = ("1.16.0",)


def stop_token_ids(tokenizer: Any, stops: Sequence[str]) -> list[int]:
    """The token id of each stop string; a string that is not exactly one token is a UserError."""
    ids = []
    for s in stops:
        enc = tokenizer(s, add_special_tokens=False).input_ids
        if len(enc) != 1:
            raise UserError(f"stop token {s!r} is {len(enc)} tokens for this tokenizer; it must be exactly one")
        ids.append(enc[0])
    return ids


def load_policy(cfg: TrainConfig) -> tuple[Any, Any, str]:
    """(model, tokenizer, resolved model reference) with the configured dtype and extra stop tokens."""
    import torch

    from tooln1.model import load_model_and_tokenizer, resolve_dtype, resolve_model

    # TRL's own `trust_remote_code` field (False by default) is the one opt-in: it also governs TRL's own loads.
    trust = bool(cfg.trainer.get("trust_remote_code", False))
    ref = resolve_model(cfg.model, trust)
    name = resolve_dtype(cfg.dtype, "cpu" if cfg.trainer.get("use_cpu") else None)
    dtype = "auto" if name == "auto" else getattr(torch, name)
    model, tokenizer = load_model_and_tokenizer(ref, dtype=dtype, trust_remote_code=trust)
    if cfg.stop_tokens:
        eos = model.generation_config.eos_token_id
        eos = [] if eos is None else [eos] if isinstance(eos, int) else list(eos)
        # TRL ends a completion at, and masks everything after, any eos id of the model's generation config.
        model.generation_config.eos_token_id = eos + [i for i in stop_token_ids(tokenizer, cfg.stop_tokens)
                                                      if i not in eos]  # fmt: skip
    return model, tokenizer, ref


def lora_config(cfg: TrainConfig) -> Any:
    """A peft.LoraConfig from the recipe's `lora:` mapping, or None (full fine-tuning)."""
    if not cfg.lora:
        return None
    from peft import LoraConfig

    lora = cfg.lora
    return LoraConfig(
        r=int(lora.get("r", 16)),
        lora_alpha=int(lora.get("alpha", 2 * int(lora.get("r", 16)))),
        lora_dropout=float(lora.get("dropout", 0.0)),
        target_modules=lora.get("target_modules", "all-linear"),
        layers_to_transform=lora.get("layers_to_transform"),
        task_type="CAUSAL_LM",
    )


def _prepare_run_dir(cfg: TrainConfig, resume: bool, overwrite: bool) -> str | None:
    """Create the run folder; on resume return the newest complete checkpoint and drop metrics logged after it."""
    from transformers.trainer_utils import get_last_checkpoint

    from tooln1.train.callbacks import METRICS_FILE, truncate_metrics
    from tooln1.train.checkpoints import checkpoints, latest_complete

    run = Path(cfg.output_dir)
    if resume:
        started = run.is_dir() and ((run / CONFIG_FILE).is_file() or (run / METRICS_FILE).exists() or checkpoints(run))
        if not started:
            raise UserError(f"--resume: no checkpoint-N folder and no run in {run}")
        last, skipped = latest_complete(run, needs_training_state=not cfg.trainer.get("save_only_model"))
        for name, why in skipped:
            # An incomplete checkpoint cannot be resumed from; the step is trained and saved again.
            logger.warning("--resume: skipping %s: %s; removing it", name, why)
            shutil.rmtree(run / name)
        saved = run / CONFIG_FILE
        if saved.is_file() and saved.read_text(encoding="utf-8") != cfg.to_yaml():
            logger.warning("the resolved config differs from the one saved in %s; resuming with the new one", saved)
        if last is None:  # killed before the first checkpoint was complete
            truncate_metrics(run, 0)
            logger.warning("--resume: no complete checkpoint in %s; starting again from step 0", run)
            return None
        step = json.loads((last / "trainer_state.json").read_text())["global_step"]
        kept = truncate_metrics(run, step)
        logger.info("resuming from %s (step %d; %d metric lines kept)", last, step, kept)
        return str(last)
    if run.is_dir() and ((run / METRICS_FILE).exists() or get_last_checkpoint(str(run))):
        if not overwrite:
            raise UserError(f"{run} already holds a run; pass --resume to continue it or --overwrite to replace it")
        shutil.rmtree(run)
    run.mkdir(parents=True, exist_ok=True)
    return None


def _save_final(trainer: Any, cfg: TrainConfig) -> None:
    """Save the final model + tokenizer at the run folder's root; a LoRA adapter is merged (and kept in adapter/)."""
    run = Path(cfg.output_dir)
    if not cfg.lora:
        trainer.save_model(str(run))
        return
    trainer.save_model(str(run / "adapter"))
    if trainer.is_deepspeed_enabled or trainer.is_fsdp_enabled:
        # Sharded parameters cannot be merged in place; the adapter above is complete.
        logger.warning("sharded LoRA run: merge %s/adapter into the base model to get full weights", run)
        return
    if trainer.accelerator.is_main_process:
        merged = trainer.accelerator.unwrap_model(trainer.model).merge_and_unload()
        merged.save_pretrained(str(run))
        trainer.processing_class.save_pretrained(str(run))


def train(cfg: TrainConfig, resume: bool = False, overwrite: bool = False, callbacks: Sequence[Any] = ()) -> Path:
    """Run GRPO or SFT (per `cfg.mode`) and return the run folder. `callbacks` are extra TrainerCallbacks."""
    from tooln1.train.callbacks import (SUMMARY_FILE, AlreadyTrained, MetricsJsonlCallback, PlotCallback,
                                        StopIfAlreadyTrained, peak_rss_gib)  # fmt: skip
    from tooln1.train.card import render_card
    from tooln1.train.data import build_dataset, data_file, load_prompt_template, read_samples, with_calls

    checkpoint = _prepare_run_dir(cfg, resume, overwrite)
    run = Path(cfg.output_dir)
    from tooln1.train import multiturn

    multi_turn = cfg.mode == "grpo" and multiturn.is_multi_turn_data(cfg.data)  # executable tasks: TRL's agent loop
    # Read before the model: bad data fails fast.
    data = multiturn.read_tasks(cfg.data, cfg.max_samples) if multi_turn else read_samples(cfg.data, cfg.max_samples)
    read = len(data)
    if cfg.calls_only and cfg.mode == "grpo" and not multi_turn:
        data = with_calls(data)
    template = load_prompt_template(cfg.prompt_file)
    args = _trainer_args(cfg)  # before the model, as TRL does: a DeepSpeed ZeRO-3 config must exist at load time
    if cfg.mode == "grpo":
        _check_one_generation_batch(args, len(data))  # before the model too: fail fast
    model, tokenizer, ref = load_policy(cfg)
    if multi_turn:
        dataset, report = multiturn.build_dataset(data, template)
    else:
        dataset, report = build_dataset(data, tokenizer, cfg.mode, template, cfg.max_prompt_tokens, cfg.sft_target)
    report["file"] = str(data_file(cfg.data))
    if len(data) < read:
        report.update(samples=read, dropped_no_call=read - len(data))
    (run / CONFIG_FILE).write_text(cfg.to_yaml(), encoding="utf-8")
    ours = [MetricsJsonlCallback(run), PlotCallback(run, cfg.mode), *_probe(cfg, tokenizer, template), *callbacks]
    if checkpoint is not None:
        ours.append(StopIfAlreadyTrained())  # last: see its docstring
    if multi_turn:
        build_trainer = multiturn.build_trainer
    elif cfg.mode == "grpo":
        from tooln1.train.grpo import build_trainer
    else:
        from tooln1.train.sft import build_trainer
    score_labelled_positions_only()
    trainer = build_trainer(cfg, args, model, tokenizer, dataset, lora_config(cfg), ours)
    try:
        trainer.train(resume_from_checkpoint=checkpoint)
    except AlreadyTrained as done:
        # Killed after the last checkpoint, before (or while) the final model was saved. The trainer holds that
        # checkpoint's weights; end training for the callbacks (plot, final probe, TensorBoard writer) as
        # transformers would have, and save the final model below.
        logger.info("--resume: %s is at step %d (max_steps %d): nothing left to train; saving the final model",
                    checkpoint, done.step, done.max_steps)  # fmt: skip
        trainer.control = trainer.callback_handler.on_train_end(trainer.args, trainer.state, trainer.control)
    _save_final(trainer, cfg)
    if trainer.accelerator.is_main_process:
        summary_path = run / SUMMARY_FILE
        summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
        summary["peak_rss_gib"] = round(peak_rss_gib(), 3)
        summary["world_size"] = trainer.accelerator.num_processes  # e.g. 2 under `torchrun --nproc_per_node 2`
        summary_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        (run / "README.md").write_text(render_card(cfg, ref, report, summary), encoding="utf-8")
    logger.info("run folder: %s", run)
    return run


def _check_one_generation_batch(args: Any, n_prompts: int) -> None:
    """A UserError when the data cannot fill one GRPO generation batch.

    Why: TRL's RepeatSampler yields only full batches of `generation_batch_size / num_generations` distinct prompts
    (per_device_train_batch_size x processes x steps_per_generation, which defaults to gradient_accumulation_steps,
    over G); with fewer prompts the epoch is empty and training ends at step 0 with exit 0 and no log line.
    """
    need = args.generation_batch_size // args.num_generations
    if n_prompts < need:
        raise UserError(f"GRPO needs at least {need} prompts for one step (generation_batch_size "
                        f"{args.generation_batch_size} / num_generations {args.num_generations}; per_device_train_"
                        f"batch_size x processes x steps_per_generation), the data has {n_prompts}: lower "
                        "per_device_train_batch_size or gradient_accumulation_steps, or add data")  # fmt: skip


def _probe(cfg: TrainConfig, tokenizer: Any, template: Any) -> list[Any]:
    """[ProbeCallback] when the recipe has a `probe:` mapping, else []."""
    if not cfg.probe:
        return []
    from tooln1.eval.heldout import load_items
    from tooln1.train.probe import ProbeCallback

    probe = cfg.probe
    data = probe.get("data") or cfg.data
    if not Path(data).is_dir():
        raise UserError(f"probe: {data} is not a data folder with a test.jsonl; set probe.data")
    samples = [item.sample for item in load_items(data, int(probe.get("n", 48)))]
    stop = probe.get("stop_after_minutes")
    return [ProbeCallback(cfg.output_dir, samples, tokenizer, int(probe.get("every", 5)),
                          int(probe.get("max_new_tokens", 96)), int(probe.get("batch_size", 16)), template,
                          None if stop is None else float(stop), rollout_stops(cfg))]  # fmt: skip


def rollout_stops(cfg: TrainConfig) -> tuple[str, ...]:
    """Every string that ends a training completion: `stop_tokens` and the rollout's `stop_strings`, so an
    evaluation of the policy (the probe, the demo's stages) ends its replies where training's rollouts end them."""
    return (*cfg.stop_tokens, *((cfg.rollout or {}).get("stop_strings") or ()))


def _trainer_args(cfg: TrainConfig) -> Any:
    """trl.GRPOConfig / trl.SFTConfig from the recipe's mapping; TensorBoard on unless the recipe says otherwise."""
    if cfg.mode == "grpo":
        from trl import GRPOConfig as Args
    else:
        from trl import SFTConfig as Args
    kwargs = {"report_to": ["tensorboard"], **cfg.trainer}
    try:
        return Args(output_dir=cfg.output_dir, **kwargs)
    except (ValueError, TypeError) as e:  # TRL's own consistency checks (batch sizes, ...) are user errors here
        raise UserError(f"invalid {cfg.mode} settings: {str(e).splitlines()[0]}") from None


def score_labelled_positions_only() -> None:
    """Make TRL's fused LM head score only the labelled (completion) positions on CPU, as it does on GPU.

    TRL 1.16's fused LM head (`trl.trainer.utils.add_fused_lm_head`) projects only positions with a label where
    Triton runs, but *every* position (prompt included) elsewhere, to keep tile shapes fixed for compiling backends
    such as Neuron. On CPU nothing is compiled, and with a 262k vocabulary and ~400-token prompts the prompt
    positions are most of a step's time. The result is identical (unlabelled positions are zero either way).
    Idempotent; applies to both trainers. `_use_triton` is private: on a TRL other than the ones this was measured
    on (`LM_HEAD_PATCH_TRL`), nothing is patched and a warning says so.
    """
    import trl
    import trl.trainer.utils as trl_utils

    if trl.__version__ not in LM_HEAD_PATCH_TRL or not callable(getattr(trl_utils, "_use_triton", None)):
        logger.warning("TRL %s: the CPU LM-head speed-up (measured on TRL %s) is not applied",
                       trl.__version__, ", ".join(LM_HEAD_PATCH_TRL))  # fmt: skip
        return
    original = trl_utils._use_triton
    if getattr(original, "tooln1_cpu_compact", False):
        return

    def use_compact(device: Any) -> bool:
        return device.type == "cpu" or original(device)

    use_compact.tooln1_cpu_compact = True  # type: ignore[attr-defined]
    trl_utils._use_triton = use_compact

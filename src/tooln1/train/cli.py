"""`tooln1 train grpo|sft`: one YAML recipe plus `--key value` overrides.

Example:
    $ tooln1 train grpo --config configs/cpu_demo.yaml --data runs/data --max_steps 4
    $ tooln1 train grpo --config configs/cpu_demo.yaml --data runs/data --resume       # continue the run
    $ tooln1 train sft --config configs/cpu_demo.yaml --data runs/data --output_dir runs/sft --lora.r 8
    $ accelerate launch --config_file configs/accelerate/deepspeed_zero3.yaml -m tooln1 train grpo \\
          --config configs/tool_n1_qwen2.5_7b.yaml --data runs/data

Any key of the recipe can be overridden (see `tooln1.train.config`); `--resume` continues from the run folder's
newest *complete* checkpoint with the same data order (a checkpoint a kill left half-written is named, skipped and
removed; with none complete the run starts again from step 0); `--overwrite` replaces an existing run folder.
`--config` reads our nested recipes, flat `trl.GRPOConfig` YAML (as `trl grpo --config` takes) and TRL-script
files (`model_name_or_path`, `dataset_name`, ...), as `CONFIG_FORMS` says in `--help`.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any


class _OverridesParser(argparse.ArgumentParser):
    """Keeps the `--key value` pairs it does not know in `args.overrides` instead of rejecting them."""

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> tuple[argparse.Namespace, list[str]]:
        ns, extras = super().parse_known_args(args, namespace)
        ns.overrides = extras
        return ns, []


CONFIG_FORMS = """\
--config reads three forms of YAML, which may be mixed:
  ours (nested)       our keys at the top (model, data, reward, output_dir, lora, ...), TRL settings under
                      grpo: / sft: (see configs/*.yaml)
  flat TRL config     any trl.GRPOConfig / trl.SFTConfig field at the top (learning_rate: 1.0e-6,
                      num_generations: 5), as `trl grpo --config` takes
  TRL script file     what TrlParser reads for `trl grpo`: model_name_or_path, dataset_name (a tooln1 data
                      folder or .jsonl), use_peft + lora_r/lora_alpha/lora_dropout/lora_target_modules,
                      reward_funcs (tooln1.rewards.tool_n1_<variant>), env:
A TRL key tooln1 cannot honour (quantisation, dataset_config, ...) is an error unless it has TRL's default value.
Values are YAML 1.2 (1e-6 is a float); extra --key value pairs take the same keys and override the file."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train with GRPO (Tool-N1) or SFT (baseline) on TRL")
    tsub = p.add_subparsers(dest="train_mode", required=True, metavar="MODE", parser_class=_OverridesParser)
    for mode, text in (("grpo", "GRPO with the Tool-N1 reward"), ("sft", "supervised fine-tuning baseline")):
        m = tsub.add_parser(
            mode,
            help=text,
            allow_abbrev=False,  # `--res 1` must be an override error, not `--resume`
            description=f"{text}. Extra --key value pairs override the recipe (dotted keys reach into mappings).",
            epilog=CONFIG_FORMS,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        m.add_argument("--config", help="YAML recipe: ours (configs/*.yaml), a flat TRL config or a TRL script file")
        m.add_argument("--resume", action="store_true",
                       help="continue from the newest complete checkpoint in output_dir (incomplete ones, left by "
                       "a kill during a save, are reported and skipped)")  # fmt: skip
        m.add_argument("--overwrite", action="store_true", help="replace an existing run in output_dir")
        m.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tooln1.train.config import load_config
    from tooln1.train.run import train

    # TRL 1.16 itself sets and reads the deprecated `gradient_checkpointing` names of transformers 5.24: the warnings
    # are not about the user's recipe (ours use `activation_checkpointing`), and would clutter one-line errors.
    warnings.filterwarnings("ignore", r".*`(is_)?gradient_checkpointing` is deprecated", FutureWarning)

    cfg = load_config(args.config, args.overrides, mode=args.train_mode)
    out = train(cfg, resume=args.resume, overwrite=args.overwrite)
    sys.stdout.write(f"{out}\n")
    return 0

"""One YAML recipe -> a typed `TrainConfig`: our own keys plus a `grpo:` / `sft:` mapping handed to TRL as is.

Three forms of file are read (and may be mixed):
  1. ours, nested: our keys at the top, TRL settings under `grpo:` / `sft:` (configs/*.yaml);
  2. a flat `trl.GRPOConfig` / `trl.SFTConfig` YAML, as `trl grpo --config` takes (`learning_rate: 1e-6` at the top);
  3. a TRL-script file (what `trl.TrlParser` reads for `trl grpo`: `trl.ScriptArguments` + `trl.ModelConfig` keys
     such as `model_name_or_path`, `dataset_name`, `use_peft`, `lora_r`, `reward_funcs`, and an `env:` mapping).

Example (configs/tiny_ci.yaml, abridged):

    model: bundled            # "bundled", a local folder, or a hub id such as Qwen/Qwen2.5-7B-Instruct
    data: runs/data           # a `tooln1 data` output folder (reads train.jsonl) or one .jsonl of samples
    reward: binary
    output_dir: runs/grpo
    lora: {r: 16, alpha: 32, target_modules: all-linear}
    grpo:                     # any trl.GRPOConfig field
      num_generations: 4
      max_steps: 2

    >>> cfg = load_config(None, ["--data", "d.jsonl", "--grpo.max_steps", "2", "--lora.r", "8"], mode="grpo")
    >>> cfg.trainer["max_steps"], cfg.lora["r"]
    (2, 8)

Overrides come as `--key value` (or `--key=value`); values are read as YAML (`1e-6` is a float, `null` is None).
A dotted key reaches into a mapping (`--grpo.beta 0`, `--lora.r 8`), and a bare key that is not one of ours but
is a field of the active TRL config (`--max_steps 2` under `tooln1 train grpo`) goes into that mapping, in a file
as on the command line. TRL-script keys are translated to ours (`TRL_SCRIPT_KEYS`), `env:` is exported to the
environment as `TrlParser` does, and a TRL key that `tooln1 train` cannot honour (quantisation, a dataset config,
...) is refused unless it has TRL's default value: nothing is ignored silently. An unknown key is a `UserError`
that lists the valid keys.

    >>> cfg = load_config(None, ["--model_name_or_path", "m", "--dataset_name", "d", "--use_peft", "true",
    ...                          "--lora_r", "8", "--learning_rate", "1e-5"], mode="grpo")
    >>> cfg.model, cfg.data, cfg.lora["r"], cfg.trainer
    ('m', 'd', 8, {'learning_rate': 1e-05})
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass, field
import os
from pathlib import Path
from typing import Any

import yaml

from tooln1.errors import UserError
from tooln1.rewards import VARIANTS

MODES = ("grpo", "sft")
SFT_TARGETS = ("auto", "think", "no_think")
LORA_KEYS = ("r", "alpha", "dropout", "target_modules", "layers_to_transform")
PROBE_KEYS = ("every", "n", "data", "max_new_tokens", "batch_size", "stop_after_minutes")  # tooln1.train.probe.ProbeCallback
ROLLOUT_KEYS = ("refill_rounds", "stop_strings")  # tooln1.train.rollout.Rollout
MAPPINGS = ("lora", "probe", "rollout")  # our keys that hold a mapping (reachable as --lora.r 8, --probe.every 4)
DTYPES = ("float32", "bfloat16", "float16", "auto", "fast")


class _Loader(yaml.SafeLoader):
    """YAML 1.2 scalars: `1e-6` (no dot) is a float, and only true/false are booleans. YAML 1.1 would read `1e-6`
    as a string and `save_strategy: no` as False, both wrong for TRL settings."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
    list("-+0123456789."),
)


def parse_value(text: str) -> Any:
    """A command-line value read as YAML: numbers, booleans, null, lists (`[a, b]`) and mappings."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError:
        return text


@dataclass
class TrainConfig:
    """Everything `tooln1 train` reads. `trainer` is the `grpo:` or `sft:` mapping of the recipe (mode-dependent).

    Attributes:
        model: "bundled", a local model folder (e.g. an SFT run dir, for SFT->RL) or a hub id.
        data: a `tooln1 data` output folder (its train.jsonl is read) or a .jsonl file of `Sample` lines.
        reward: the reward variant (binary, binary_no_think, partial_think, partial_name).
        output_dir: the run folder (config, metrics, plot, checkpoints, final model).
        prompt_file: optional YAML with the prompt wording (`tooln1.prompt.PromptTemplate.from_file`).
        max_prompt_tokens: prompts longer than this are dropped (method §4.2: 4096; TRL does not truncate).
        max_samples: use only the first N samples of the data (None: all).
        dtype: dtype of the loaded weights; `fast` is bfloat16 where the hardware computes it natively (a GPU, a
            CPU with AVX512-BF16 or AMX), else float32 (`tooln1.model.resolve_dtype`); `auto` is the checkpoint's.
        stop_tokens: extra strings that end a completion, each a single token (e.g. "\\n\\n", the turn end of the
            plain chat template); added to the model's generation eos ids, so TRL masks what follows. This acts on
            transformers generation; vLLM rollouts read stops from `grpo.generation_kwargs` (e.g. {stop: [...]}).
        sft_target: SFT target format: auto (think when the sample has reasoning, else no-think, method §1.8),
            think (always; a short templated reasoning when the sample has none), no_think.
        lora: None for full fine-tuning, else {r, alpha, dropout, target_modules, layers_to_transform}; the last
            (PEFT's name) limits the adapters to some layers: with only the top layers adapted, backward stops there.
        probe: None, or {every, n, data, max_new_tokens, batch_size, stop_after_minutes}: greedy held-out accuracy
            of the live policy on the first `n` samples of `data`'s test.jsonl (default: the training data folder)
            at step 0, every `every` steps and at the end, in RUN/probe.jsonl (`tooln1.train.probe`);
            `stop_after_minutes` ends training after that much training time, probes excluded.
        rollout: GRPO only. None (default): TRL's own generation. A mapping ({refill_rounds, stop_strings})
            generates through `tooln1.train.rollout.Rollout`: each prompt prefilled once for its G completions,
            with `refill_rounds: N` up to N rounds of DAPO dynamic sampling (all-equal groups replaced), and with
            `stop_strings` (any number of tokens, e.g. "</tool_call>") completions end at the first of them.
        skip_flat_rows: GRPO only (default true). Leave the rows of zero advantage out of the loss's forward and
            backward pass where that leaves the gradient exactly as TRL's (`tooln1.train.grpo`); false: TRL's pass.
        calls_only: GRPO only (default false). Train on the samples whose gold has at least one call: the paper's
            released pipeline has no empty-answer samples (method §1.4, step 5), and on the CPU demo the binary
            reward's cheapest attractor was the `[]` answer (README). Held-out evaluation keeps every task; multi-turn
            tasks (scored by execution, with no gold list) are all kept.
        trainer: keyword arguments for trl.GRPOConfig / trl.SFTConfig.
    """

    mode: str
    data: str
    model: str = "bundled"
    reward: str = "binary"
    output_dir: str = "runs/train"
    prompt_file: str | None = None
    max_prompt_tokens: int = 4096
    max_samples: int | None = None
    dtype: str = "float32"
    stop_tokens: list[str] = field(default_factory=list)
    sft_target: str = "auto"
    lora: dict[str, Any] | None = None
    probe: dict[str, Any] | None = None
    rollout: dict[str, Any] | None = None
    skip_flat_rows: bool = True
    calls_only: bool = False
    trainer: dict[str, Any] = field(default_factory=dict)

    def to_yaml(self) -> str:
        """The resolved recipe, in the same shape as the input file (the mapping under its mode's name)."""
        d = dataclasses.asdict(self)
        d[d.pop("mode")] = d.pop("trainer")
        return yaml.safe_dump(d, sort_keys=False, allow_unicode=True)


OUR_KEYS = tuple(f.name for f in dataclasses.fields(TrainConfig) if f.name not in ("mode", "trainer"))


def trainer_fields(mode: str) -> tuple[str, ...]:
    """The settable fields of trl.GRPOConfig or trl.SFTConfig, less `output_dir` (ours is top-level).

    TRL is imported lazily: it is slow to import, and `tooln1 --help` must stay fast.
    """
    if mode == "grpo":
        from trl import GRPOConfig as cls
    else:
        from trl import SFTConfig as cls
    return tuple(sorted(f.name for f in dataclasses.fields(cls) if f.init and f.name != "output_dir"))


def _unknown(key: str, valid: tuple[str, ...], where: str, also: tuple[str, ...] = ()) -> UserError:
    """The error for an unknown key: close matches (among `valid` and `also`), then every valid key."""
    close = difflib.get_close_matches(key.split(".")[-1], valid + also, n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return UserError(f"unknown config key '{key}'{hint}; valid {where} keys: {', '.join(valid)}")


def parse_overrides(argv: list[str]) -> list[tuple[str, Any]]:
    """`["--a.b", "1", "--c=x"]` -> `[("a.b", 1), ("c", "x")]`; a flag without a value is a UserError."""
    out: list[tuple[str, Any]] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if not tok.startswith("--") or len(tok) == 2:
            raise UserError(f"expected --key value, got {tok!r}")
        if "=" in tok:
            key, text = tok[2:].split("=", 1)
            i += 1
        else:
            if i + 1 >= len(argv):
                raise UserError(f"override {tok} needs a value")
            key, text = tok[2:], argv[i + 1]
            i += 2
        out.append((key.replace("-", "_"), parse_value(text)))
    return out


def _apply(raw: dict[str, Any], key: str, value: Any, mode: str) -> None:
    """Set one (possibly dotted) key in the raw recipe; bare TRL field names go to the mode's mapping."""
    head, _, rest = key.partition(".")
    if not rest:
        if head in OUR_KEYS or head in MODES:
            raw[head] = value
        elif head in trainer_fields(mode):
            raw.setdefault(mode, {})[head] = value
        elif head in trl_script_fields():
            raw.setdefault(_TRL_SCRIPT, {})[head] = value
        else:
            raise _unknown(key, OUR_KEYS + MODES, f"top-level keys, trl {mode} config fields or trl script "
                           "arguments; top-level", also=trainer_fields(mode) + tuple(trl_script_fields()))
        return
    if head not in MAPPINGS + MODES:
        raise _unknown(key, MAPPINGS + MODES, "mapping")
    if not isinstance(raw.get(head), dict):
        raw[head] = {}
    raw[head][rest] = value


def _check(raw: dict[str, Any], mode: str, source: str) -> TrainConfig:
    _translate_trl_script(raw, raw.pop(_TRL_SCRIPT, {}))
    for key in raw:
        if key not in OUR_KEYS + MODES:
            raise _unknown(key, OUR_KEYS + MODES, f"top-level ({source})")
    trainer = raw.get(mode) or {}
    if not isinstance(trainer, dict):
        raise UserError(f"'{mode}' must be a mapping of trl config fields, got {type(trainer).__name__}")
    if "output_dir" in trainer:
        raise UserError(f"set the run folder with the top-level 'output_dir', not '{mode}.output_dir'")
    valid = trainer_fields(mode)
    for key in trainer:
        if key not in valid:
            raise _unknown(f"{mode}.{key}", valid, f"{mode} (trl.{'GRPOConfig' if mode == 'grpo' else 'SFTConfig'})")
    for name, keys in (("lora", LORA_KEYS), ("probe", PROBE_KEYS), ("rollout", ROLLOUT_KEYS)):
        value = raw.get(name)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise UserError(f"'{name}' must be a mapping with keys {', '.join(keys)}, or null")
        for key in value:
            if key not in keys:
                raise _unknown(f"{name}.{key}", keys, name)
    if not raw.get("data"):
        raise UserError("no training data: set 'data' in the config or pass --data DIR")
    cfg = TrainConfig(
        mode=mode, trainer=dict(trainer), **{k: raw[k] for k in OUR_KEYS if k in raw and raw[k] is not None}
    )
    cfg.lora, cfg.probe, cfg.rollout = raw.get("lora"), raw.get("probe"), raw.get("rollout")
    if cfg.reward not in VARIANTS:
        raise UserError(f"unknown reward variant '{cfg.reward}'; valid: {', '.join(VARIANTS)}")
    if cfg.sft_target not in SFT_TARGETS:
        raise UserError(f"unknown sft_target '{cfg.sft_target}'; valid: {', '.join(SFT_TARGETS)}")
    rounds = (cfg.rollout or {}).get("refill_rounds", 0)
    if not isinstance(rounds, int) or isinstance(rounds, bool) or rounds < 0:
        raise UserError(f"rollout.refill_rounds must be a whole number >= 0, got {rounds!r}")
    stops = (cfg.rollout or {}).get("stop_strings") or []
    if not isinstance(stops, list) or not all(isinstance(x, str) and x for x in stops):
        raise UserError(f"rollout.stop_strings must be a list of non-empty strings, got {stops!r}")
    for key in ("skip_flat_rows", "calls_only"):
        if not isinstance(getattr(cfg, key), bool):
            raise UserError(f"{key} must be true or false, got {getattr(cfg, key)!r}")
    if cfg.dtype not in DTYPES:
        raise UserError(f"unknown dtype '{cfg.dtype}'; valid: {', '.join(DTYPES)}")
    if isinstance(cfg.stop_tokens, str):
        cfg.stop_tokens = [cfg.stop_tokens]
    return cfg


def load_config(path: str | Path | None, overrides: list[str], mode: str) -> TrainConfig:
    """Read the YAML recipe (optional), apply `--key value` overrides and validate every key.

    Raises:
        UserError: missing file, invalid YAML, unknown key, wrong type or value.
    """
    raw: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise UserError(f"config file not found: {p}")
        try:
            raw = yaml.load(p.read_text(encoding="utf-8"), Loader=_Loader) or {}  # noqa: S506 - SafeLoader
        except yaml.YAMLError as e:
            raise UserError(f"{p}: invalid YAML: {str(e).splitlines()[0]}") from None
        if not isinstance(raw, dict):
            raise UserError(f"{p}: a config must be a mapping")
        raw = _from_file(raw, mode, p)
    for key, value in parse_overrides(overrides):
        _apply(raw, key, value, mode)
    return _check(raw, mode, str(path) if path else "overrides")


# --- TRL's own config forms (flat GRPOConfig YAML, TRL-script files) -------------------------------------------------

_TRL_SCRIPT = "__trl_script__"  # where TRL-script keys wait until every override is in
# TRL-script key -> our key (a dotted one reaches into `lora`). `trl grpo` adds `reward_funcs`; `use_peft` turns
# the `lora_*` keys on, as in `trl.get_peft_config`.
TRL_SCRIPT_KEYS = {
    "model_name_or_path": "model", "dataset_name": "data", "use_peft": "lora", "lora_r": "lora.r",
    "lora_alpha": "lora.alpha", "lora_dropout": "lora.dropout", "lora_target_modules": "lora.target_modules",
    "reward_funcs": "reward",
}  # fmt: skip
REWARD_EXPORTS = {f"tooln1.rewards.tool_n1_{v}": v for v in VARIANTS}


def trl_script_fields() -> dict[str, Any]:
    """Every key `trl grpo`'s TrlParser reads besides GRPOConfig's, with TRL's default (None: no default)."""
    from trl import ModelConfig, ScriptArguments

    fields = {f.name: f.default for cls in (ScriptArguments, ModelConfig) for f in dataclasses.fields(cls)}
    fields["reward_funcs"] = None  # trl.scripts.grpo.GRPOScriptArguments
    fields.pop("dtype")  # ours has the same name and the same values
    return fields


def _from_file(raw: dict[str, Any], mode: str, path: Path) -> dict[str, Any]:
    """A file's top level routed like overrides: flat TRL config fields and TRL-script keys are accepted."""
    env = raw.pop("env", None)
    if env is not None:  # as TrlParser.parse_args_and_config does
        if not isinstance(env, dict):
            raise UserError(f"{path}: 'env' must be a mapping of environment variables")
        os.environ.update({str(k): str(v) for k, v in env.items()})
    out: dict[str, Any] = {k: raw.pop(k) for k in list(raw) if k in OUR_KEYS + MODES}
    for key, value in raw.items():
        if isinstance(out.get(mode), dict) and key in out[mode] and out[mode][key] != value:
            raise UserError(f"{path}: '{key}' is set both at the top level and under '{mode}:'")
        _apply(out, key, value, mode)
    return out


def _translate_trl_script(raw: dict[str, Any], script: dict[str, Any]) -> None:
    """Turn TRL-script keys into ours, in place; refuse the ones `tooln1 train` cannot honour."""
    if not script:
        return
    defaults = trl_script_fields()
    for key, value in script.items():
        if key not in TRL_SCRIPT_KEYS and value != defaults[key]:
            raise UserError(f"trl script argument '{key}' is not supported by tooln1 train (only "
                            f"{', '.join(TRL_SCRIPT_KEYS)} are; `trl grpo` itself takes it)")  # fmt: skip
    for ours, trl_key in (("model", "model_name_or_path"), ("data", "dataset_name")):
        if script.get(trl_key) is not None:
            raw[ours] = script[trl_key]
    if script.get("reward_funcs") is not None:
        funcs = script["reward_funcs"]
        funcs = [funcs] if isinstance(funcs, str) else list(funcs)
        if len(funcs) != 1 or funcs[0] not in REWARD_EXPORTS:
            raise UserError(f"reward_funcs must be one of {', '.join(REWARD_EXPORTS)}, got {funcs}")
        raw["reward"] = REWARD_EXPORTS[funcs[0]]
    lora_keys = {k: v for k, v in script.items() if k.startswith("lora_")}
    if script.get("use_peft"):
        # trl.get_peft_config: ModelConfig's defaults for what the file leaves out
        lora = {ours.split(".")[1]: script.get(k, defaults[k]) for k, ours in TRL_SCRIPT_KEYS.items()
                if ours.startswith("lora.")}  # fmt: skip
        raw["lora"] = {**lora, **(raw.get("lora") or {})}
    elif lora_keys:
        raise UserError(f"{', '.join(lora_keys)} set without use_peft: true (TRL would ignore them)")


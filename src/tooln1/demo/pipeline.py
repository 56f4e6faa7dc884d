"""The demo pipeline: the whole Tool-N1 loop on a CPU, as resumable stages in one run folder.

Stages (each records its result in RUN/state.json when it finishes, so a rerun skips it):

1. model       prepare the bundled Gemma-3-270M (or take --model; --smoke builds a tiny random model)
2. data        synthetic train and held-out tasks (`tooln1 data synth`), or --data DIR from `tooln1 data build`
3. eval-base   the untrained model: held-out binary accuracy, format and reason rates; a fixed BFCL subset
4. sft         a short SFT warm-up (explicit, separately reported: the paper's claim is about RL; --no-sft skips it)
5. eval-sft    held-out accuracy of the model GRPO starts from ("rl_start"), so GRPO's own gain is measured
6. grpo        GRPO with the binary reward (configs/cpu_demo.yaml)
7. eval-final  held-out and BFCL subset again
8. report      RUN/report.md, RUN/report.json, curves PNG and sample completions

Why a warm-up: with the Tool-N1 zero-shot prompt the base (not instruction-tuned) 270M model almost never
writes a `<tool_call>` block and never ends its turn, so GRPO starts with no reward signal and every rollout runs
to the length cap. Ten SFT steps teach the output format and the stop (about 10 % held-out accuracy); GRPO then
has to get the calls right, and the report separates what each stage added.

Every stage renders prompts with the recipe's `prompt_file` (configs/cpu_demo.yaml: the compact wording), so the
evaluations see exactly the prompts training saw.

Interrupting (Ctrl-C) is safe: evaluations append item by item and training checkpoints every `save_steps`, so
`tooln1 demo` (and `make demo`) continues the latest unfinished run.

Example:
    $ tooln1 demo                 # full run, about 11 minutes on 2 cores
    $ tooln1 demo --smoke         # tiny model, a few tasks, 1 step: checks the plumbing in about a minute
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tooln1.demo.display import CountingBackend, Display, TrainProgress
from tooln1.errors import UserError

logger = logging.getLogger(__name__)

STATE = "state.json"
STAGES = ("model", "data", "eval-base", "sft", "eval-sft", "grpo", "eval-final", "report")
# A fixed BFCL subset: the four non-live AST categories, the first N entries of each.
BFCL_SUBSET = ("simple_python", "multiple", "parallel", "parallel_multiple")
REPO_CONFIGS = Path(__file__).resolve().parents[3] / "configs"


@dataclass
class DemoConfig:
    """What the demo runs. `--smoke` swaps in a tiny model and tiny sizes (the CI test of the whole pipeline)."""

    model: str = "bundled"
    data: str | None = None
    config: str = "configs/cpu_demo.yaml"
    n_tasks: int = 1500  # 10 % held out: about 150 held-out tasks
    heldout: int | None = None  # evaluate the first N held-out tasks (None: all of them)
    bfcl_per_category: int = 16  # 4 categories x 16 = 64 BFCL entries
    max_new_tokens: int = 96
    batch_size: int = 16  # eval batch: 15 % faster than 8 here (48 held-out prompts, bf16, alternating)
    sft: bool = True
    seed: int = 0
    smoke: bool = False
    overrides: list[str] = field(default_factory=list)

    @classmethod
    def smoke_test(cls, **kw: Any) -> DemoConfig:
        return cls(config="configs/tiny_ci.yaml", n_tasks=40, heldout=4, bfcl_per_category=1, max_new_tokens=8,
                   batch_size=4, smoke=True, overrides=["--max_steps", "1"], **kw)  # fmt: skip


def config_path(name: str) -> Path:
    """A recipe (or prompt file) path as given, else relative to the repository, else in its configs/ (so the demo
    runs from any folder)."""
    p = Path(name)
    for candidate in (p, REPO_CONFIGS.parent / p, REPO_CONFIGS / p.name):
        if candidate.is_file():
            return candidate
    raise UserError(f"config not found: {name}")


def prompts_per_step(grpo: dict[str, Any]) -> int:
    """Distinct prompts behind one GRPO optimizer step of a `grpo:` mapping (one process), with TRL's defaults."""
    from trl import GRPOConfig

    value = {**{f.name: f.default for f in dataclasses.fields(GRPOConfig)}, **grpo}
    return value["per_device_train_batch_size"] * value["gradient_accumulation_steps"] // value["num_generations"]


class Demo:
    """Runs the stages in order, skipping those the state file marks done."""

    def __init__(self, run: Path, cfg: DemoConfig, display: Display) -> None:
        self.run, self.cfg, self.display = run, cfg, display
        path = run / STATE
        self.state: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
        if self.state:  # a resumed run keeps the settings it started with, so its stages stay comparable
            self.cfg = DemoConfig(**self.state["config"])
        self.state.setdefault("config", asdict(cfg))
        self.state.setdefault("done", {})
        self.state.setdefault("elapsed_s", 0.0)
        self._backends: dict[str, Any] = {}

    def save(self) -> None:
        tmp = self.run / (STATE + ".tmp")
        tmp.write_text(json.dumps(self.state, indent=2) + "\n")
        tmp.replace(self.run / STATE)

    def execute(self) -> dict[str, Any]:
        from tooln1.demo.report import write_report

        steps = {
            "model": self.stage_model, "data": self.stage_data, "eval-base": lambda: self.evaluate("base", True),
            "sft": lambda: self.stage_train("sft"), "eval-sft": lambda: self.evaluate("sft", False),
            "grpo": lambda: self.stage_train("grpo"), "eval-final": lambda: self.evaluate("final", True),
            "report": lambda: write_report(self.run, self.state),
        }  # fmt: skip
        for i, name in enumerate(STAGES, start=1):
            if name in self.state["done"]:
                continue
            if name in ("sft", "eval-sft") and not self.cfg.sft:
                self.state["done"][name] = {"skipped": True}
                continue
            self.display.begin(i, name, STAGE_TEXT[name])
            started = time.monotonic()
            try:
                result = steps[name]()
            finally:
                self.state["elapsed_s"] += time.monotonic() - started
                self.save()
            self.state["done"][name] = {**result, "seconds": round(time.monotonic() - started, 1)}
            self.save()
        return self.state

    # -- stages -------------------------------------------------------------------------------------------------
    def stage_model(self) -> dict[str, Any]:
        from tooln1.model import build_tiny_model, resolve_model

        if self.cfg.smoke:
            return {"model": str(build_tiny_model(self.run / "tiny-model"))}
        return {"model": resolve_model(self.cfg.model)}

    def stage_data(self) -> dict[str, Any]:
        if self.cfg.data:
            data = Path(self.cfg.data)
            if not (data / "train.jsonl").is_file() or not (data / "test.jsonl").is_file():
                raise UserError(f"--data {data}: expected train.jsonl and test.jsonl from `tooln1 data build`")
            return {"data": str(data)}
        from tooln1.data.build import BuildOptions, build_from_samples
        from tooln1.data.export import write_outputs
        from tooln1.data.synth import generate

        out = self.run / "data"
        options = BuildOptions(seed=self.cfg.seed)
        splits, report = build_from_samples("synth", generate(self.cfg.n_tasks, self.cfg.seed), options)
        write_outputs(out, splits, report)
        return {"data": str(out), "train": len(splits["train"]), "test": len(splits["test"])}

    def trained(self, mode: str) -> str | None:
        """The run folder (= final model) of a finished training stage, or None (not run, or skipped)."""
        return self.state["done"].get(mode, {}).get("run")

    def model_for(self, stage: str) -> str:
        """The model an evaluation stage measures: base, after the warm-up, or after GRPO."""
        base = self.state["done"]["model"]["model"]
        return {"base": base, "sft": self.trained("sft"), "final": self.trained("grpo")}[stage] or base

    def stage_train(self, mode: str) -> dict[str, Any]:
        from tooln1.train.callbacks import read_metrics
        from tooln1.train.config import load_config
        from tooln1.train.run import train

        out = self.run / mode
        base = self.state["done"]["model"]["model"]
        start = (self.trained("sft") or base) if mode == "grpo" else base  # SFT->RL: GRPO starts from the warm-up
        argv = ["--model", start, "--data", self.state["done"]["data"]["data"], "--output_dir", str(out),
                *self.cfg.overrides]  # fmt: skip
        cfg = load_config(config_path(self.cfg.config), argv, mode=mode)
        if cfg.prompt_file:
            cfg.prompt_file = str(config_path(cfg.prompt_file))
        resume = any(out.glob("checkpoint-*"))
        if resume:
            self.display.note(f"resuming {mode} from its latest checkpoint in {out}")
        self._backends.clear()  # free the eval model's memory for training
        train(cfg, resume=resume, overwrite=not resume, callbacks=[TrainProgress(self.display)])
        # With dynamic sampling the batch's `reward` is biased towards mixed groups; the reward as drawn is not.
        rewards = [m.get("rollout/reward_as_drawn", m["reward"]) for m in read_metrics(out) if "reward" in m]
        result = {"run": str(out), "steps": len(read_metrics(out)), "rewards": rewards}
        if mode == "grpo":
            result["prompts_per_step"] = prompts_per_step(cfg.trainer)
        return result

    def _backend(self, model: str) -> Any:
        """One loaded model per stage, shared by its held-out and BFCL evaluations."""
        if model not in self._backends:
            from tooln1.eval.backends import DTYPES, GenSettings, HFBackend
            from tooln1.train.config import load_config
            from tooln1.train.data import load_prompt_template
            from tooln1.train.run import rollout_stops

            self._backends.clear()
            recipe = load_config(config_path(self.cfg.config), ["--data", "unused"], mode="grpo")
            # The recipe's prompt wording (its `prompt_file`), so evaluation prompts equal training's, and its stops:
            # every stage, the untrained model included, ends its replies where training's rollouts end them
            # (configs/cpu_demo.yaml: the plain template's blank line).
            template = load_prompt_template(str(config_path(recipe.prompt_file)) if recipe.prompt_file else None)
            settings = GenSettings(max_new_tokens=self.cfg.max_new_tokens, batch_size=self.cfg.batch_size,
                                   stop=rollout_stops(recipe))
            # The recipe's dtype (`fast` in cpu_demo.yaml), so every stage generates with the weights training used.
            dtype = recipe.dtype if recipe.dtype in DTYPES else "fast"
            self._backends[model] = HFBackend(model, settings, dtype=dtype, template=template)
        return self._backends[model]

    def evaluate(self, stage: str, with_bfcl: bool) -> dict[str, Any]:
        from tooln1.eval import bfcl, heldout
        from tooln1.eval.runner import run_items

        model = self.model_for(stage)
        base_cfg = {"model": model, "backend": "hf", "max_new_tokens": self.cfg.max_new_tokens, "stage": stage}
        items = heldout.load_items(self.state["done"]["data"]["data"], self.cfg.heldout)
        rows = run_items(items, lambda: CountingBackend(self._backend(model), self.display, len(items)),
                         self.run / "eval" / stage / "heldout", heldout.score, {**base_cfg, "benchmark": "heldout"})
        summary = heldout.summarize_rewards([r["completion"] for r in rows], [it.sample.gold for it in items])
        result: dict[str, Any] = {"heldout": summary}
        if with_bfcl:
            cases = bfcl.load_cases(BFCL_SUBSET, self.cfg.bfcl_per_category)
            by_id = {c.id: c for c in cases}
            rows = run_items([c.item for c in cases], lambda: CountingBackend(self._backend(model), self.display,
                             len(cases)), self.run / "eval" / stage / "bfcl",
                             lambda item, text: bfcl.score(by_id[item.id], text), {**base_cfg, "benchmark": "bfcl"})
            result["bfcl"] = {"n": len(rows), "accuracy": round(100 * sum(r["correct"] for r in rows) / len(rows), 2)}
        return result


STAGE_TEXT = {
    "model": "prepare the model",
    "data": "synthetic train and held-out tasks",
    "eval-base": "evaluate the untrained model (held-out + BFCL subset)",
    "sft": "SFT warm-up (format and stop; reported on its own)",
    "eval-sft": "evaluate after the warm-up (held-out)",
    "grpo": "GRPO with the binary reward",
    "eval-final": "evaluate the trained model (held-out + BFCL subset)",
    "report": "write the report",
}


def find_unfinished(root: Path) -> Path | None:
    """The newest demo run under `root` whose report stage has not finished."""
    for run in sorted(root.glob("demo-*"), reverse=True):
        state = run / STATE
        if state.is_file() and "report" not in json.loads(state.read_text()).get("done", {}):
            return run
    return None

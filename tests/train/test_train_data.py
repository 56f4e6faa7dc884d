"""Tests for `tooln1.train.data`: reading samples, the GRPO and SFT datasets, the prompt-length filter.

Example:
    .venv/bin/pytest tests/train/test_train_data.py -q
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tooln1.errors import UserError
from tooln1.prompt import DEFAULT_TEMPLATE, render_prompt
from tooln1.rewards import score
from tooln1.train.data import (
    NO_THINK_INSTRUCTIONS,
    build_dataset,
    on_token_boundary,
    read_samples,
    sft_completion,
    with_calls,
)
from tooln1.types import calls_to_json


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def test_reads_a_data_folder_or_a_file_with_a_limit(samples_file: Path) -> None:
    assert len(read_samples(samples_file.parent)) == 8
    assert [s.id for s in read_samples(samples_file, limit=3)] == ["t0", "t1", "t2"]


def test_calls_only_leaves_out_the_no_call_samples(samples_file: Path) -> None:
    samples = read_samples(samples_file)
    assert [s.id for s in with_calls(samples)] == [s.id for s in samples if s.id != "t5"]  # t5: "Tell me a joke"
    with pytest.raises(UserError, match="every sample's gold is"):
        with_calls([s for s in samples if not s.gold])


def test_missing_column_is_named(tmp_path: Path, samples_file: Path) -> None:
    row = json.loads(samples_file.read_text().splitlines()[1])
    del row["gold"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(samples_file.read_text().splitlines()[0] + "\n" + json.dumps(row) + "\n")
    with pytest.raises(UserError, match=r"bad.jsonl:2: missing required column 'gold'"):
        read_samples(bad)
    bad.write_text("{not json\n")
    with pytest.raises(UserError, match=r"bad.jsonl:1: invalid JSON"):
        read_samples(bad)
    with pytest.raises(UserError, match="training data not found"):
        read_samples(tmp_path / "nothing")


def test_grpo_rows_are_rendered_prompts_and_gold_json(samples_file: Path, tokenizer) -> None:
    samples = read_samples(samples_file)
    ds, report = build_dataset(samples, tokenizer, "grpo", DEFAULT_TEMPLATE, 4096)
    assert ds.column_names == ["prompt", "ground_truth"]
    assert report == {"samples": 8, "kept": 8, "dropped_long_prompt": 0}
    assert ds["prompt"] == [render_prompt(s, tokenizer) for s in samples]
    assert ds["ground_truth"] == [calls_to_json(s.gold) for s in samples]
    # every sample's own tools are in its own prompt
    assert '"convert_currency"' in ds["prompt"][2] and '"convert_currency"' not in ds["prompt"][0]


def test_long_prompts_are_dropped_and_all_dropped_is_an_error(samples_file: Path, tokenizer) -> None:
    samples = read_samples(samples_file)
    lengths = sorted(len(tokenizer(render_prompt(s, tokenizer)).input_ids) for s in samples)
    ds, report = build_dataset(samples, tokenizer, "grpo", DEFAULT_TEMPLATE, lengths[3])
    assert report["kept"] == len(ds) == sum(n <= lengths[3] for n in lengths) and report["dropped_long_prompt"] > 0
    with pytest.raises(UserError, match="every prompt is longer"):
        build_dataset(samples, tokenizer, "grpo", DEFAULT_TEMPLATE, lengths[0] - 1)


def test_sft_targets_reason_when_there_is_reasoning_else_the_no_reason_variant(samples_file: Path, tokenizer) -> None:
    samples = read_samples(samples_file)
    ds, _ = build_dataset(samples, tokenizer, "sft", DEFAULT_TEMPLATE, 4096)
    assert ds.column_names == ["prompt", "completion"]
    eos = tokenizer.eos_token
    # sample 0 has a reasoning trace: think target under the normal prompt; it earns the binary reward. The leading
    # space keeps ":" (end of the plain template's prompt) and "<" in separate tokens, as at inference.
    assert ds["completion"][0] == f" <think>{samples[0].reasoning}</think>\n{_calls(samples[0])}{eos}"
    assert ds["prompt"][0] == render_prompt(samples[0], tokenizer)
    assert score(ds["completion"][0].removesuffix(eos), samples[0].gold).score == 1.0
    # the others have none: bare call block (method §1.8), under the no-think instructions
    assert ds["completion"][1] == f" {_calls(samples[1])}{eos}"
    assert NO_THINK_INSTRUCTIONS in ds["prompt"][1] and "<think>" not in ds["prompt"][1]
    assert score(ds["completion"][1].removesuffix(eos), samples[1].gold, "binary_no_think").score == 1.0


def test_sft_rows_split_on_a_token_boundary(samples_file: Path, tokenizer) -> None:
    """TRL tokenizes prompt + completion together; the prompt's own tokens must be a prefix of that, or the model
    learns a merged boundary token (":<") that generation, which starts from the prompt's tokens, never produces."""
    ds, _ = build_dataset(read_samples(samples_file), tokenizer, "sft", DEFAULT_TEMPLATE, 4096)
    for prompt, completion in zip(ds["prompt"], ds["completion"], strict=True):
        prompt_ids = tokenizer(prompt).input_ids
        assert tokenizer(prompt + completion).input_ids[: len(prompt_ids)] == prompt_ids
    assert tokenizer("Assistant:<think>", add_special_tokens=False).input_ids[1:2] != tokenizer(":").input_ids[-1:]
    assert on_token_boundary("User: a\n\n", "<think>", tokenizer) == "<think>"  # no merge: unchanged


def test_sft_think_target_has_a_templated_reasoning_that_scores(samples_file: Path) -> None:
    for s in read_samples(samples_file):
        text = sft_completion(s, "think")
        assert text.startswith("<think>") and score(text, s.gold).score == 1.0
        if s.reasoning is None:
            assert all(c.name in text.split("</think>")[0] for c in s.gold)
        assert sft_completion(s, "no_think") == _calls(s)


def test_a_template_bos_is_not_doubled(samples_file: Path, tokenizer) -> None:
    """A chat template that writes BOS itself (Llama-3 style) must not get a second one from the tokenizer."""
    import copy

    tok = copy.deepcopy(tokenizer)
    tok.chat_template = "{{ bos_token }}" + tokenizer.chat_template
    ds, _ = build_dataset(read_samples(samples_file)[:1], tok, "grpo", DEFAULT_TEMPLATE, 4096)
    ids = tok(ds["prompt"][0]).input_ids
    assert ids[0] == tok.bos_token_id and ids[1] != tok.bos_token_id


def _calls(sample) -> str:
    from tooln1.prompt import format_calls

    return format_calls(sample.gold)

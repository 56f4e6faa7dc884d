"""Tests for the build pipeline: filters, split, augmentations, exports, atomic writes, the report and `check`.

Example:
    .venv/bin/pytest tests/data/test_data_build.py -q
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

from tooln1.data.augment import irrelevance_samples, mask_names
from tooln1.data.build import BuildOptions, SourceSpec, build, build_from_samples, load_tokenizer
from tooln1.data.check import check_dir
from tooln1.data.export import atomic_file, staged_dir, write_outputs, write_verl_parquet
from tooln1.data.filters import Deduper, prompt_lengths
from tooln1.data.records import RECORD_REASONS, SAMPLE_REASONS
from tooln1.data.report import SourceReport
from tooln1.data.split import split_by_dialog
from tooln1.data.synth import generate
from tooln1.errors import UserError
from tooln1.prompt import PromptTemplate, build_messages, render_prompt
from tooln1.types import Sample, ToolCall

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FIXTURE_SPECS = [f"xlam={FIXTURES / 'xlam_hub.jsonl'}", f"toolace={FIXTURES / 'toolace_hub.json'}"]


def fixture_build(**options) -> tuple[dict[str, list[Sample]], object]:
    return build([SourceSpec.parse(s) for s in FIXTURE_SPECS], BuildOptions(**options))


def test_report_counts_add_up() -> None:
    splits, report = fixture_build()
    for name, r in report.sources.items():
        record_drops = sum(n for reason, n in r.dropped.items() if reason in RECORD_REASONS)
        sample_drops = sum(n for reason, n in r.dropped.items() if reason in SAMPLE_REASONS)
        assert record_drops + sample_drops == sum(r.dropped.values()), name
        assert r.samples == r.kept + sample_drops, name
        records_with_samples = len({s.dialog for s in splits["train"] + splits["test"] if s.source == name})
        assert r.read >= record_drops + r.no_target + records_with_samples, name
    assert report.train + report.test == sum(r.kept for r in report.sources.values()) == 7


def test_duplicates_are_found_across_sources(tmp_path: Path) -> None:
    s = generate(1, seed=0)[0]
    row = {"query": s.messages[0]["content"], "tools": s.tools, "answers": [c.to_dict() for c in s.gold]}
    (tmp_path / "a.jsonl").write_text(json.dumps(row) + "\n")
    (tmp_path / "b.json").write_text(json.dumps([row, row]))
    specs = [SourceSpec.parse(f"xlam={tmp_path / name}") for name in ("a.jsonl", "b.json")]
    _, report = build(specs, BuildOptions())
    assert report.sources["xlam"].to_dict()["dropped"] == {"sample:duplicate": 2}
    assert report.sources["xlam"].examples["sample:duplicate"][0].endswith("b.json:1: xlam-1.0 repeats xlam-0")
    assert report.settings["dedupe"] is True
    # the paper's way: repeats kept, and the report says so
    splits, kept = build(specs, BuildOptions(dedupe=False, test_fraction=0.0))
    assert len(splits["train"]) == 3 and kept.sources["xlam"].to_dict()["dropped"] == {}
    assert kept.settings["dedupe"] is False


def test_dedup_ignores_ids_and_sources() -> None:
    a = generate(1, seed=1)[0]
    d = Deduper()
    assert d.original(a) is None
    assert d.original(replace(a, id="other", source="xlam", dialog="z")) == a.id
    assert d.original(replace(a, id="third", gold=[])) is None
    assert d.original(replace(a, id="fourth", gold=[])) == "third"


def test_split_is_deterministic_and_keeps_dialogues_whole() -> None:
    samples = [Sample(f"d{i // 3}-{i}", "x", [{"name": "f"}], [], [], dialog=f"d{i // 3}") for i in range(300)]
    train, test = split_by_dialog(samples, test_fraction=0.1, seed=7)
    assert (len(train), len(test)) == (270, 30)
    assert not {s.dialog for s in train} & {s.dialog for s in test}
    assert [s.id for s in test] == [s.id for s in split_by_dialog(samples, 0.1, seed=7)[1]]
    assert [s.id for s in test] != [s.id for s in split_by_dialog(samples, 0.1, seed=8)[1]]
    for s in test:  # steps of a dialogue stay in order
        assert int(s.id.split("-")[1]) % 3 == 0 or test[test.index(s) - 1].dialog == s.dialog
    assert split_by_dialog(samples[:6], test_fraction=0.01, seed=0)[1] != []  # at least one test dialogue
    with pytest.raises(ValueError):
        split_by_dialog(samples, test_fraction=1.0)


def test_prompt_length_filter_uses_the_rendered_prompt(tiny_model_dir: Path) -> None:
    tokenizer = load_tokenizer(str(tiny_model_dir))  # cached: the build below reuses it
    samples = generate(30, seed=5)
    lengths = prompt_lengths(samples, tokenizer, batch_size=7)
    assert lengths == [
        len(tokenizer(render_prompt(s, tokenizer), add_special_tokens=False)["input_ids"]) for s in samples
    ]
    limit = sorted(lengths)[len(lengths) // 2]
    splits, report = build_from_samples("synth", samples, BuildOptions(max_prompt_tokens=limit, tokenizer=str(
        tiny_model_dir), test_fraction=0.0))  # fmt: skip
    too_long = sum(n > limit for n in lengths)
    assert 0 < too_long < len(samples)
    assert report.sources["synth"].dropped == {"prompt:too_long": too_long}
    assert len(splits["train"]) == len(samples) - too_long
    assert report.sources["synth"].examples["prompt:too_long"][0].endswith(" tokens")


def test_augmentations_are_off_by_default_and_work_when_asked() -> None:
    plain, report = build_from_samples("synth", generate(200, seed=2), BuildOptions())
    assert report.augmented == {} and not any(
        s.id.endswith(("-irrelevant", "-masked")) for v in plain.values() for s in v
    )
    originals = generate(200, seed=2)
    eligible = [s for s in originals if s.gold and {t["name"] for t in s.tools} - {c.name for c in s.gold}]
    splits, report = build_from_samples("synth", originals, BuildOptions(irrelevance=0.5, mask_names=0.5))
    samples = splits["train"] + splits["test"]
    irrelevant = [s for s in samples if "-irrelevant" in s.id]
    assert len(irrelevant) == report.augmented["irrelevance"]
    assert 0.3 * len(eligible) < len(irrelevant) < 0.7 * len(eligible)
    assert 100 < report.augmented["masked"] < 200 and all(not s.gold for s in irrelevant)
    for split in splits.values():  # an irrelevance copy lands with its original
        ids = {s.id for s in split}
        assert all(s.id.split("-irrelevant")[0].removesuffix("-masked") in {i.removesuffix("-masked") for i in ids}
                   for s in split if "-irrelevant" in s.id)  # fmt: skip


def test_irrelevance_removes_every_called_tool() -> None:
    samples = [s for s in generate(100, seed=4) if s.gold and len(s.tools) > 1]
    out = irrelevance_samples(samples, 1.0, random.Random(0))
    assert out
    originals = {s.id: s for s in samples}
    for s in out:
        called = {c.name for c in originals[s.id.removesuffix("-irrelevant")].gold}
        assert s.gold == [] and s.tools and not called & {t["name"] for t in s.tools}


def test_mask_names_renames_consistently_and_perturbs_defaults() -> None:
    tool = {"name": "get_weather", "description": "Weather", "parameters": {
        "city": {"type": "str", "description": "City, e.g. Paris"},
        "days": {"type": "int", "description": "Days, default 3", "default": 3}}}  # fmt: skip
    s = Sample("x", "xlam", [tool, {"name": "other", "parameters": {}}],
               [{"role": "user", "content": "Weather in Paris for 3 days"}],
               [ToolCall("get_weather", {"city": "Paris", "days": 3})], dialog="x")  # fmt: skip
    (m,) = mask_names([s], 1.0, random.Random(1))
    assert m.id == "x-masked" and "get_weather" not in {t["name"] for t in m.tools}
    (masked_tool,) = [t for t in m.tools if t["name"] == m.gold[0].name]
    params = masked_tool["parameters"]
    assert "city" not in params and "days" not in params and len(params) == 2
    new_days = next(k for k, v in params.items() if "default" in v)
    value = m.gold[0].arguments[new_days]
    assert 4 <= value <= 7 and params[new_days]["default"] == value
    assert f"for {value} days" in m.messages[0]["content"] and f"default {value}" in params[new_days]["description"]
    assert "Paris" in m.messages[0]["content"] and s.gold[0].arguments == {"city": "Paris", "days": 3}  # untouched


def test_exports_hold_the_same_samples_and_check_passes(tmp_path: Path) -> None:
    import datasets
    import pyarrow.parquet as pq

    template = PromptTemplate(preamble="Custom preamble.\n")
    splits, report = fixture_build(test_fraction=0.3, seed=1, template=template)
    out = write_outputs(tmp_path / "out", splits, report, template)
    hf = datasets.load_from_disk(str(out / "hf"))
    for split, samples in splits.items():
        lines = (out / f"{split}.jsonl").read_text().splitlines()
        assert [Sample.from_json(line) for line in lines] == samples
        assert hf[split].column_names == ["id", "source", "prompt", "ground_truth"]
        assert hf[split]["prompt"] == [build_messages(s, template) for s in samples]
        assert hf[split]["prompt"][0][0]["content"].startswith("Custom preamble.")
        rows = pq.read_table(out / "verl" / f"{split}.parquet").to_pylist()
        assert [r["data_source"] for r in rows] == [s.source for s in samples]
        assert {r["ability"] for r in rows} == {"toolcall"}
        assert [json.loads(r["reward_model"]["ground_truth"]) for r in rows] == [
            [c.to_dict() for c in s.gold] for s in samples]  # fmt: skip
        assert [r["extra_info"] for r in rows] == [
            {"split": split, "index": i, "id": s.id} for i, s in enumerate(samples)
        ]
        assert len((out / "openai" / f"{split}.jsonl").read_text().splitlines()) == len(samples)
    assert json.loads((out / "report.json").read_text()) == report.to_dict()
    result = check_dir(out)
    assert result.failures == [] and result.rows["hf/train"] == len(splits["train"])


def test_check_catches_a_gold_that_cannot_score_one(tmp_path: Path) -> None:
    splits, report = build_from_samples("synth", generate(20, seed=0), BuildOptions())
    out = write_outputs(tmp_path / "d", splits, report)
    lines = (out / "train.jsonl").read_text().splitlines()
    bad = json.loads(lines[3])
    # A value holding "</tool_call>" cuts the canonical completion's call block short: it can never score 1.
    bad["gold"] = [{"name": "f", "arguments": {"x": "a</tool_call>b"}}]
    (out / "train.jsonl").write_text("\n".join([*lines[:3], json.dumps(bad), *lines[4:]]) + "\n")
    failures = check_dir(out).failures
    assert failures[0].startswith("train.jsonl:4 (") and "scores 0.0" in failures[0]
    assert any(f.startswith("verl/train.parquet#3: ground_truth differs") for f in failures)


def test_staged_dir_leaves_the_old_output_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.json").write_text("old")
    with pytest.raises(RuntimeError), staged_dir(out) as tmp:
        (tmp / "report.json").write_text("new")
        raise RuntimeError("disk full")
    assert (out / "report.json").read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    with staged_dir(out) as tmp:
        (tmp / "report.json").write_text("new")
    assert (out / "report.json").read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_staged_dir_refuses_an_unrelated_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(UserError, match="not an earlier tooln1 data output"), staged_dir(tmp_path):
        pass
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_write_verl_parquet_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "train.parquet"
    write_verl_parquet(generate(3, seed=0), path, "train")
    before = path.read_bytes()
    with pytest.raises(ValueError):
        write_verl_parquet(generate(3, seed=1), path, "train", prompts=[[{"role": "user", "content": "x"}]])
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["train.parquet"]
    with pytest.raises(OSError), atomic_file(tmp_path / "x.txt") as tmp:
        tmp.write_text("half")
        raise OSError("boom")
    assert [p.name for p in tmp_path.iterdir()] == ["train.parquet"]


def test_source_report_keeps_only_the_first_locations() -> None:
    r = SourceReport()
    for i in range(9):
        r.drop("json:invalid", f"f:{i}")
    assert r.dropped["json:invalid"] == 9 and r.examples["json:invalid"] == [f"f:{i}" for i in range(5)]


def test_an_unforeseen_record_shape_is_counted_not_fatal() -> None:
    from types import SimpleNamespace

    from tooln1.data.build import convert_records

    adapter = SimpleNamespace(convert=lambda raw, key: [] if raw.get("ok") else raw["missing"])
    report = SourceReport()
    out = list(convert_records(adapter, [("f:1", {"ok": True}), ("f:2", {}), ("f:3", "[1")], report, strict=False))
    assert out == [] and (report.read, report.no_target) == (3, 1)
    assert report.examples == {"record:unparseable": ["f:2: KeyError: 'missing'"],
                               "json:invalid": ["f:3: Expecting ',' delimiter: line 1 column 3 (char 2)"]}  # fmt: skip
    with pytest.raises(UserError, match="^f:2: record:unparseable: KeyError: 'missing'$"):
        list(convert_records(adapter, [("f:2", {})], SourceReport(), strict=True))


def test_mask_names_handles_json_schema_parameters() -> None:
    tool = {"name": "f", "parameters": {"type": "object", "properties": {"q": {"type": "string", "default": "x"}},
                                        "required": ["q"]}}  # fmt: skip
    s = Sample("y", "synth", [tool], [{"role": "user", "content": "f with x"}], [ToolCall("f", {"q": "x"})])
    (m,) = mask_names([s], 1.0, random.Random(3))
    (new_q,) = m.tools[0]["parameters"]["properties"]
    assert m.tools[0]["parameters"]["type"] == "object" and m.tools[0]["parameters"]["required"] == [new_q]
    assert m.gold == [ToolCall(m.tools[0]["name"], {new_q: m.tools[0]["parameters"]["properties"][new_q]["default"]})]
    assert m.gold[0].arguments[new_q] != "x" and m.messages[0]["content"] == f"f with {m.gold[0].arguments[new_q]}"

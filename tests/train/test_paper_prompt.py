"""The paper recipe renders the paper's prompt: configs/tool_n1_qwen2.5_7b.yaml -> configs/prompts/tool_n1_paper.yaml.

The expected text is written out literally from NVlabs/Tool-N1 (commit f9b4849): `DEFAULT_PROMPT` of
`data_process/raw_data_process.py` followed by `qwen_tool_prompts` of `verl_toolcall_preprocess.py` (method §2.1),
then the plain chat template of the bundled tokenizer (`tooln1.prompt.PLAIN_CHAT_TEMPLATE`).

Run: .venv/bin/pytest tests/train/test_paper_prompt.py -q
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tooln1.prompt import DEFAULT_TEMPLATE, PromptTemplate
from tooln1.train.config import load_config
from tooln1.train.data import build_dataset, load_prompt_template
from tooln1.types import Sample

REPO = Path(__file__).resolve().parents[2]
CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
TOOL = {"name": "get_weather", "description": "Weather of a city", "parameters": CITY}
SAMPLE = Sample("s0", "xlam", [TOOL], [{"role": "user", "content": "What is the weather in Paris?"}], [])

EXPECTED = (
    "You are an expert in composing functions. You are given a question and a set of possible functions. \n"
    "Based on the question, you will need to make one or more function/tool calls to achieve the purpose. \n"
    "If none of the function can be used, point it out. If the given question lacks the parameters required by the "
    "function,\nalso point it out. You should only return the function call in tools call sections. Here is a list "
    "of functions in JSON format that you can invoke:\n"
    "# Tool\n\nHere is a list of functions in JSON format that you can invoke:\n\n<tools>\n"
    '{"type": "function", "function": {"name": "get_weather", "description": "Weather of a city", "parameters": '
    '{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}\n</tools>\n\n'
    "In each action step, you MUST: \n"
    "1. Think about the reasoning process in the mind and enclosed your reasoning within <think> </think> XML tags.\n"
    "2. Then, provide a json object with function names and arguments within <tool_call></tool_call> XML tags. i.e., "
    '<tool_call>[{"name": <function-name>, "arguments": <args-json-object>}, {"name": <function-name2>, '
    '"arguments": <args-json-object2>}, ...]</tool_call>\n'
    "3. Make sure both the reasoning and the tool call steps are included together in one single reply.\n"
    "A complete reply example is: <think>To address the query, I need to send the email to Bob and then buy the "
    'banana through walmart. </think> <tool_call> [{"name": "email", "arguments": {"receiver": "Bob", "content": '
    '"I will bug banana through walmart"}}, {"name": "walmart", "arguments": {"input": "banana"}}]</tool_call>. '
    "Please make sure the type of the arguments is correct. \n"
    "\n\nUser: What is the weather in Paris?\n\nAssistant:"
)


def test_paper_recipe_renders_the_paper_prompt(tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`tooln1 train grpo --config configs/tool_n1_qwen2.5_7b.yaml` (run from the repo root) builds this prompt."""
    from transformers import AutoTokenizer

    monkeypatch.chdir(REPO)
    cfg = load_config("configs/tool_n1_qwen2.5_7b.yaml", ["--data", "d"], mode="grpo")
    assert cfg.prompt_file == "configs/prompts/tool_n1_paper.yaml"
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    dataset, report = build_dataset([SAMPLE], tokenizer, "grpo", load_prompt_template(cfg.prompt_file), 4096)
    assert report["kept"] == 1
    assert dataset["prompt"][0] == EXPECTED


def test_paper_prompt_file_has_both_parts_and_our_default_stays() -> None:
    data = yaml.safe_load((REPO / "configs" / "prompts" / "tool_n1_paper.yaml").read_text(encoding="utf-8"))
    assert set(data) == {"preamble", "instructions"}
    paper = PromptTemplate.from_file(REPO / "configs" / "prompts" / "tool_n1_paper.yaml")
    assert paper != DEFAULT_TEMPLATE and PromptTemplate() == DEFAULT_TEMPLATE  # our wording is still the default
    assert paper.instructions.endswith("Please make sure the type of the arguments is correct. \n")

#!/usr/bin/env bash
# GPU smoke test, for a machine with one CUDA GPU and no network: two GRPO steps through `tooln1 train grpo` at
# configs/tiny_ci.yaml's sizes on a random model built from a small Qwen2-shaped config (the bundled tokenizer, so
# nothing is downloaded), then benchmarks/bench_grpo_step.py on the same GPU recipe. Prints step times.
#
#   bash benchmarks/gpu_smoke.sh                 # needs `make setup` (or PYTHON=...) and a visible CUDA device
#   DEVICE=cpu bash benchmarks/gpu_smoke.sh      # the same steps on CPU (to check the script itself)
#
# Not part of `make test` (CI has no GPU). Output: OUT (default runs/gpu_smoke) holds the recipe, model, run folder.
set -euo pipefail

PYTHON=${PYTHON:-.venv/bin/python}
OUT=${OUT:-runs/gpu_smoke}
DEVICE=${DEVICE:-cuda}
ROUNDS=${ROUNDS:-2}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1

mkdir -p "$OUT"
if [ "$DEVICE" = cuda ]; then
    "$PYTHON" -c 'import sys, torch; ok = torch.cuda.is_available(); print("torch", torch.__version__, "cuda:",
torch.cuda.get_device_name(0) if ok else "none"); sys.exit(0 if ok else 1)' || { echo "no CUDA device" >&2; exit 1; }
fi

# A random Qwen2-shaped model (4 layers, 256 wide) with the bundled tokenizer; and the tiny_ci recipe on $DEVICE.
"$PYTHON" - "$OUT" "$DEVICE" <<'EOF'
import sys
from pathlib import Path

import torch
import yaml
from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

from tooln1.model import prepare_bundled

out, device = Path(sys.argv[1]), sys.argv[2]
tok = AutoTokenizer.from_pretrained(prepare_bundled())
config = Qwen2Config(vocab_size=len(tok), hidden_size=256, intermediate_size=512, num_hidden_layers=4,
                     num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                     bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
torch.manual_seed(0)
Qwen2ForCausalLM(config).save_pretrained(out / "qwen2-tiny")
tok.save_pretrained(out / "qwen2-tiny")
recipe = yaml.safe_load(Path("configs/tiny_ci.yaml").read_text())
recipe["grpo"].update({"use_cpu": device == "cpu", "bf16": device == "cuda", "save_strategy": "no"})
(out / "recipe.yaml").write_text(yaml.safe_dump(recipe, sort_keys=False))
print(f"model: {out / 'qwen2-tiny'} ({sum(p.numel() for p in Qwen2ForCausalLM(config).parameters()) / 1e6:.1f}M "
      f"parameters); recipe: {out / 'recipe.yaml'} (device {device})")
EOF

"$PYTHON" -m tooln1 data synth --n 32 --out "$OUT/data" --test-fraction 0 >/dev/null
"$PYTHON" -m tooln1 train grpo --config "$OUT/recipe.yaml" --model "$OUT/qwen2-tiny" --data "$OUT/data" \
    --output_dir "$OUT/run" --overwrite --max_steps 2
"$PYTHON" - "$OUT/run" <<'EOF'
import json, sys
from pathlib import Path

run = Path(sys.argv[1])
for line in (run / "metrics.jsonl").read_text().splitlines():
    m = json.loads(line)
    print(f"step {m['step']}: {m['step_seconds']:.3f} s, reward {m['reward']:.3f}, "
          f"completion length {m['completions/mean_length']:.1f}")
summary = json.loads((run / "train_summary.json").read_text())
print(f"train_runtime {summary['train_runtime']:.2f} s for {summary['step']} steps")
EOF

"$PYTHON" benchmarks/bench_grpo_step.py --recipe "$OUT/recipe.yaml" --model "$OUT/qwen2-tiny" \
    --rounds "$ROUNDS" --steps 2

"""Training: GRPO (Tool-N1) and an SFT baseline on TRL, a verl export for clusters.

Example:
    $ tooln1 train grpo --config configs/cpu_demo.yaml --data runs/data
    $ tooln1 export verl --data runs/data --out runs/verl

Modules: config (YAML recipe + overrides), data (samples -> TRL datasets), run (one run: folder, model,
resume, final save), grpo / sft (the TRL trainers), callbacks (metrics JSONL, plot), card (model card),
verl (parquet export), cli (the `train` command).
"""

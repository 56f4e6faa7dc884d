# Two commands for a new user: `make demo` and `make test`. Each sets up its own environment first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-stamp

.PHONY: setup verl-env test demo clean

setup: $(STAMP)

# The stamp makes `make setup` a no-op when neither pyproject.toml nor this Makefile changed.
# torch is pinned to the local CPU wheel first: an unpinned torch would pull a multi-GB CUDA build.
# bfcl-eval (the BFCL checker) goes in without its dependencies, whose pins clash with training; pyproject lists
# what its checker imports. Reinstalling the same version is a no-op, so the recipe stays idempotent.
$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	$(PY) -m pip install -q --no-deps bfcl-eval==2026.3.23
	touch $(STAMP)

# The real verl from PyPI, for tests/train/test_train_verl.py: its own cached virtualenv (~/.cache/tooln1), since
# its pins (transformers<5.11, ray[default], ...) clash with training; the script says what goes in and why.
verl-env: setup
	bash scripts/verl_env.sh $(PY) >/dev/null

test: setup verl-env
	$(PY) -m pytest -q

# The whole Tool-N1 loop on this CPU (see README); rerunning continues an interrupted run.
demo: setup
	$(VENV)/bin/tooln1 demo

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info src/*.egg-info

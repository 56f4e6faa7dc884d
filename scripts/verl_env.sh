#!/usr/bin/env bash
# A cached virtualenv holding the real verl from PyPI, for tests/train/test_train_verl.py (and `make test`).
#
#   bash scripts/verl_env.sh [BASE_PYTHON]     # prints the env's python; idempotent (a stamp per version)
#
# verl pins transformers<5.11 and pulls ray[default], wandb, vLLM-era extras: installed with all of them it would
# replace the training stack. So verl goes in with --no-deps, with only what its config loading, DataProto and
# reward managers import (hydra-core, ray, tensordict, codetiming, pylatexenc, ...), and the project's own
# environment (torch, transformers, tooln1) is visible through a .pth file placed after the env's site-packages.
set -euo pipefail

VERL_VERSION=${VERL_VERSION:-0.9.1}
BASE=${1:-${PYTHON:-.venv/bin/python}}
BASE=$(command -v "$BASE")
ENV=${TOOLN1_VERL_ENV:-${XDG_CACHE_HOME:-$HOME/.cache}/tooln1/verl-$VERL_VERSION}
STAMP="$ENV/.stamp-$VERL_VERSION"
BASE_SITE=$("$BASE" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

# One build at a time (make and a test session may both ask); the stamp records which project environment the
# env was built on, and another one rebuilds it.
mkdir -p "$(dirname "$ENV")"
exec 9>"$ENV.lock"
flock 9
if [ "$(cat "$STAMP" 2>/dev/null)" != "$BASE_SITE" ]; then
    rm -rf "$ENV"
    "$BASE" -m venv --without-pip "$ENV"
    ENV_SITE=$("$ENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    PIP=("$BASE" -m pip --python "$ENV/bin/python")
    # tensordict without deps: its torch requirement would fetch another torch build.
    "${PIP[@]}" install -q --no-deps "verl==$VERL_VERSION" "tensordict==0.10.0"
    "${PIP[@]}" install -q "hydra-core>=1.3" "ray>=2.41" codetiming pylatexenc "torchdata" --no-deps
    # What those import, with their own dependencies (none of them pins torch, transformers or numpy).
    "${PIP[@]}" install -q "omegaconf>=2.2,<2.4" "pyvers>=0.1,<0.2" antlr4-python3-runtime==4.9.3 msgpack \
        cloudpickle orjson importlib_metadata jsonschema aiosignal frozenlist protobuf pyzmq msgspec aiohttp
    # Written after pip ran, so that pip resolved inside the env only. "zz" sorts last: the env's own packages
    # win, the project's stack (torch, transformers, the editable tooln1) fills in; addsitedir also runs that
    # environment's own .pth files.
    echo "import site; site.addsitedir('$BASE_SITE')" > "$ENV_SITE/zz_tooln1_base.pth"
    echo "$BASE_SITE" > "$STAMP"
fi
echo "$ENV/bin/python"

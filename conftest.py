"""Doctest set-up for the module examples under src/tooln1 (collected with `--doctest-modules`, see pyproject.toml).

Example (what the `tooln1.serve.*` examples find in their namespace):
    >>> app = create_app(model, tokenizer, ServeConfig())      # the tiny random model and its tokenizer

The serve examples use a loaded `model` and `tokenizer`: here the tiny random model (`tooln1.model.build_tiny_model`),
built once per session, so they run as written instead of being skipped.
"""

from __future__ import annotations

import json
import urllib.request

import pytest
from _pytest.doctest import DoctestItem


@pytest.fixture(scope="session")
def _tiny_loaded(tmp_path_factory: pytest.TempPathFactory):
    from tooln1.model import build_tiny_model, load_model_and_tokenizer

    return load_model_and_tokenizer(str(build_tiny_model(tmp_path_factory.mktemp("doctest-tiny"))))


@pytest.fixture(autouse=True)
def _serve_doctest_namespace(request: pytest.FixtureRequest, doctest_namespace: dict) -> None:
    if not isinstance(request.node, DoctestItem) or not request.node.name.startswith("tooln1.serve."):
        return
    import tooln1.serve.server
    from tooln1.serve.app import ServeConfig, create_app

    model, tokenizer = request.getfixturevalue("_tiny_loaded")
    doctest_namespace.update(model=model, tokenizer=tokenizer, create_app=create_app, ServeConfig=ServeConfig,
                             tooln1=tooln1, urllib=urllib, json=json)  # fmt: skip

"""The examples in docstrings are part of the documentation, so they must stay true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "bot.settings",
    "bot.retraining",
    "partner_model.empathy.data",
    "partner_model.empathy.metrics",
    "partner_model.rewriter.evaluate",
    "partner_model.rewriter.feedback_training",
    "tests.bot.taste",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0
    assert result.failed == 0

"""The examples in docstrings are part of the documentation, so they must stay true. Every module
of the project that has one is found and run, so a new example cannot be forgotten."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "storage", "partner_model", "tests")


def modules_with_examples() -> list[str]:
    return sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if ">>> " in path.read_text(encoding="utf-8") and path.name != Path(__file__).name
    )


def test_the_documented_modules_are_found() -> None:
    found = modules_with_examples()
    assert {"bot.settings", "storage.trends", "partner_model.text", "tests.bot.taste"} <= set(found)


@pytest.mark.parametrize("name", modules_with_examples())
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0
    assert result.failed == 0

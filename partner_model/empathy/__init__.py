"""EPITOME empathy classifier: levels 0-2 of ER, IP and EX with rationale spans."""

from __future__ import annotations

MECHANISMS: tuple[str, ...] = ("ER", "IP", "EX")
MECHANISM_NAMES = {"ER": "emotional reactions", "IP": "interpretations", "EX": "explorations"}
LEVELS = 3

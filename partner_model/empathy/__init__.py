"""EPITOME empathy classifier: levels 0-2 of ER, IP and EX with rationale spans."""

from __future__ import annotations

MECHANISMS: tuple[str, ...] = ("ER", "IP", "EX")
MECHANISM_NAMES = {"ER": "emotional reactions", "IP": "interpretations", "EX": "explorations"}
LEVELS = 3
# Training pairs whose activations set the int8 classifier's input ranges (empathy/calibration.py), about 20 s
# on 2 CPU cores. On dev, ranges from 512 train pairs left int8's EX levels equal to float's and moved 7 ER and 7 IP
# levels of 455, where torch's per-batch input scales moved 6, 14 and 3.
INT8_CALIBRATION_ROWS = 512

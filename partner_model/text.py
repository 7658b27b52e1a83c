"""Sentences of a reply, with character offsets, and their reassembly after an edit."""

from __future__ import annotations

import threading
from typing import Any

# pysbd's segmenter keeps state during a call; one per thread keeps it safe to share the module.
_local = threading.local()


def _segmenter() -> Any:
    import pysbd

    if not hasattr(_local, "segmenter"):
        _local.segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    return _local.segmenter


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of text, without surrounding whitespace.

    >>> text = "I am so sorry.  That sounds hard! What happened?"
    >>> [text[s:e] for s, e in sentence_spans(text)]
    ['I am so sorry.', 'That sounds hard!', 'What happened?']
    """
    spans = []
    for piece in _segmenter().segment(text):
        start, end = piece.start, piece.end
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
    return spans


def split_sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def join_sentences(sentences: list[str]) -> str:
    """Sentences back into one reply, a single space apart. A sentence that ends mid-word and is followed by
    another gets a full stop: a quarter of EPITOME's low-empathy replies end without one, and a suggestion
    put after such a reply's last sentence read as a run-on ("... willing to help Sorry you're ...").

    >>> join_sentences(["I hear you.", "What happened?"])
    'I hear you. What happened?'
    >>> join_sentences(["People would be willing to help", "Who have you asked?"])
    'People would be willing to help. Who have you asked?'
    >>> join_sentences(["Hang in there :)", "What happened?", "It gets better"])
    'Hang in there :) What happened? It gets better'
    """
    kept = [s.strip() for s in sentences if s.strip()]
    closed = [f"{s}." if s[-1].isalnum() else s for s in kept[:-1]]
    return " ".join(closed + kept[-1:])

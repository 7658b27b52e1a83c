from __future__ import annotations

from partner_model.empathy.data import EpitomeExample
from partner_model.rewriter.edits import EditKind
from partner_model.rewriter.warmstart_data import build_examples, counts

# A reply with no empathy: the stand-in that replace examples need.
NEUTRAL = EpitomeExample("My bike broke.", "Buy a new bike online today.", {"ER": 0, "IP": 0, "EX": 0}, {})


def _example(response: str, rationale: str, levels: dict[str, int]) -> EpitomeExample:
    start = response.index(rationale)
    spans = {m: ([(start, start + len(rationale))] if level else []) for m, level in levels.items()}
    return EpitomeExample("I failed my exam and I feel stupid.", response, levels, spans)


def test_a_rationale_sentence_becomes_an_insert_and_a_replace_example() -> None:
    empathic = _example(
        "Exams are hard. I'm so sorry you feel that way right now. Try again next term.",
        "I'm so sorry you feel that way right now.",
        {"ER": 2, "IP": 0, "EX": 0},
    )
    built = build_examples([empathic, NEUTRAL], seed=1)
    inserts = [b for b in built if b.edit.kind is EditKind.INSERT]
    replaces = [b for b in built if b.edit.kind is EditKind.REPLACE]
    assert len(inserts) == 1 and len(replaces) == 1
    (insert,) = inserts
    assert insert.sentences == ["Exams are hard.", "Try again next term."]
    assert insert.edit.position == 1
    assert insert.edit.sentence == "I'm so sorry you feel that way right now."
    assert insert.mechanisms == ("ER",)
    assert insert.edit.apply(insert.sentences) == empathic.response
    (replace,) = replaces
    assert replace.sentences[1] == "Buy a new bike online today."
    assert replace.edit.apply(replace.sentences) == empathic.response
    assert counts(built) == {"carries_ER": 2, "insert": 1, "replace": 1, "total": 2}


def test_single_sentence_replies_give_no_insert_and_fragments_are_skipped() -> None:
    only = _example(
        "I'm so sorry that happened to you.", "I'm so sorry that happened to you.", {"ER": 2, "IP": 0, "EX": 0}
    )
    short = _example("Hugs. Get well.", "Hugs.", {"ER": 1, "IP": 0, "EX": 0})
    built = build_examples([only, short], seed=1)
    assert all(b.edit.kind is EditKind.REPLACE for b in built)
    assert all(b.edit.sentence != "Hugs." for b in built)


def test_a_rationale_sentence_telling_the_responders_own_story_is_no_target() -> None:
    own = _example(
        "Exams are hard. I failed mine last year and I felt the same way. Try again next term.",
        "I failed mine last year and I felt the same way.",
        {"ER": 0, "IP": 2, "EX": 0},
    )
    assert build_examples([own, NEUTRAL], seed=1) == []

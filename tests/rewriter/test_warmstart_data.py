from __future__ import annotations

from partner_model.empathy.data import EpitomeExample
from partner_model.rewriter.edits import EditKind
from partner_model.rewriter.warmstart_data import build_examples, counts, generic_reactions

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


def _reaction(seeker: str, response: str) -> EpitomeExample:
    """A reply whose whole text is a strong emotional reaction."""
    return EpitomeExample(seeker, response, {"ER": 2, "IP": 0, "EX": 0}, {"ER": [(0, len(response))]})


def test_an_exploring_question_is_led_by_another_responders_sympathy_instead() -> None:
    question = _example(
        "Exams are hard. Have you talked to your teacher about it? Try again next term.",
        "Have you talked to your teacher about it?",
        {"ER": 0, "IP": 0, "EX": 2},
    )
    # The same reaction in two replies: its words are spelt as other responses spell them.
    generic = [_reaction(post, "I'm so sorry you feel this way.") for post in ("My cat ran away.", "I lost my job.")]
    specific = _reaction("My dog died last night.", "So sorry about your dog.")
    data = [question, *generic, specific, NEUTRAL]
    built = build_examples(data, seed=1, compound_share=1.0)
    bare = {(b.edit.kind, b.edit.position): b for b in build_examples(data, seed=1) if b.mechanisms == ("EX",)}
    # Each question example (insert and replace) now leads with the reaction, never with the one naming its
    # own post's dog, and the bare question is gone.
    compounds = [b for b in built if b.mechanisms == ("ER", "EX")]
    assert sorted(c.edit.kind.value for c in compounds) == ["insert", "replace"]
    assert {c.edit.sentence for c in compounds} == {
        "I'm so sorry you feel this way, have you talked to your teacher about it?"
    }
    for c in compounds:
        assert c.sentences == bare[(c.edit.kind, c.edit.position)].sentences
    assert not [b for b in built if b.mechanisms == ("EX",)]
    assert counts(built)["carries_ER_and_EX"] == 2
    assert "carries_ER_and_EX" not in counts(build_examples(data, seed=1))


def test_statements_and_reactions_without_plain_sympathy_lead_nothing() -> None:
    statement = _example(
        "Exams are hard. Tell me more about the exam. Try again next term.",
        "Tell me more about the exam.",
        {"ER": 0, "IP": 0, "EX": 2},
    )
    question = _example(
        "Exams are hard. Have you talked to your teacher about it? Try again next term.",
        "Have you talked to your teacher about it?",
        {"ER": 0, "IP": 0, "EX": 2},
    )
    weak = EpitomeExample("My cat ran away.", "Hope this helps.", {"ER": 1, "IP": 0, "EX": 0}, {"ER": [(0, 16)]})
    generic = [_reaction(post, "I'm so sorry you feel this way.") for post in ("My cat ran away.", "I lost my job.")]
    cheer = _reaction("I got the job I wanted!", "Lucky you, so well done.")
    typo = _reaction("My cat ran away.", "I'm so sorry that haopened.")
    sharing = _reaction("I feel so alone.", "I'm so sorry, same here.")
    assert generic_reactions([weak, *generic, cheer, typo, sharing]) == ["I'm so sorry you feel this way"]
    built = build_examples([statement, *generic, NEUTRAL], seed=1, compound_share=1.0)
    assert all(b.mechanisms != ("ER", "EX") for b in built)
    only_weak = [question, weak, cheer, typo, sharing, NEUTRAL]
    assert build_examples(only_weak, seed=1, compound_share=1.0) == build_examples(only_weak, seed=1)

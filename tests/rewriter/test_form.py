"""The form check: a statement of feeling ending in "?" gets a full stop; anything that asks keeps its "?"."""

from __future__ import annotations

import pytest

from partner_model.rewriter.form import statement_as_question, with_a_full_stop


@pytest.mark.parametrize(
    "sentence",
    [
        "I'm sorry for your pain?",  # README line 1's demo, session 48
        "That sounds really hard?",
        "I hope you feel better soon?",
        "I\u2019m here for you?",
        "It must be hard to carry all of that?",
        "Thanks for sharing this?",
    ],
)
def test_a_statement_ending_in_a_question_mark_is_caught(sentence: str) -> None:
    assert statement_as_question(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "I'm sorry, do you want to talk about it?",
        "That's a lot to carry, isn't it?",
        "I wonder what helped you before?",
        "I am so sorry to hear that, how are you holding up?",
        "Sorry to hear that can you see a doctor?",
        "It's sad but freeing at the same time, y'know?",
        "I'm sorry you are going through this, any plans for the weekend?",
        "Want to talk about it?",
        "Anything I can do to help?",
        "You lost your job?",
        "I'm sorry for your pain.",
    ],
)
def test_questions_and_plain_statements_pass(sentence: str) -> None:
    assert not statement_as_question(sentence)


def test_a_statement_gets_a_full_stop_and_a_question_keeps_its_mark() -> None:
    assert with_a_full_stop("I'm sorry for your pain?") == "I'm sorry for your pain."
    assert with_a_full_stop("That sounds really hard??") == "That sounds really hard."
    assert with_a_full_stop("I'm sorry, how are you coping?") == "I'm sorry, how are you coping?"
    assert with_a_full_stop("Want to talk about it?") == "Want to talk about it?"

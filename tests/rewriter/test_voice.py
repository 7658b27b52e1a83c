"""The voice check: suggestions take up the seeker's story and never make one up for the supporter."""

from __future__ import annotations

import pytest

from partner_model.rewriter.voice import evaluate_voice_set, out_of_voice, tells_the_writers_story


def test_the_check_separates_the_labelled_sentences() -> None:
    figures = evaluate_voice_set()
    assert figures.n >= 100
    assert figures.recall >= 0.95, figures.misses
    assert figures.precision >= 0.95, figures.false_alarms


@pytest.mark.parametrize(
    "sentence",
    [
        "How do you feel about me?",  # the rewriter's own output on a dev post
        "I just got off that massive surgery myself.",
        "Me too, work has been awful for me.",
        "I\u2019ve been feeling so low lately, could you help me out?",  # a typographic apostrophe
        "How did you know she would stop responding to my messages?",  # one 'you', one 'my'; from the demo
        "Have you tried to talk to me?",  # from the demo: asks about the two of them, not an offer
        "Do you have any idea why you think I'm comparing you to me?",  # from the demo
        "Are you angry at me?",
        "How did you know I had any sympathy for you?",  # the shipped adapter's, on dev: one 'I', two 'you'
        "How did you know I was looking for you?",  # the shipped adapter's: 'looking for you' alone is an offer
        "Are you still here for us?",  # the shipped adapter's: asks the seeker to be there for the writer
        "How do you feel if I told you I have depression?",  # the shipped adapter's, on dev: a tie of 'I' and 'you'
        "Did you know that I'm the same guy you were seeing for a few years?",  # the demo's, used by its supporter
        "I'm really sorry I didn't have time to help you?",  # the shipped adapter's, on dev: a past never had
        "I've been in a similar situation, I'm so sorry, how did you end up here?",  # the shipped adapter's, on dev
        "You know, did you hear the funny joke that I wrote for you?",  # the shipped adapter's: not an offer
        "How could I have helped you in the past?",  # the shipped adapter's, on dev: a past never had
        "Do you remember when we met?",
        # the shipped adapter's, from a fresh clone's `partner-bot rewrite` (session 45): "reached me" is no offer
        "I'm sorry for your help, but I'm not sure how you've reached me yet.",
        "I still feel the same pain, do you know why?",  # the shipped adapter's, on dev (session 49)
        "I have the same problem, do you?",
    ],
)
def test_sentences_about_the_supporter_are_caught(sentence: str) -> None:
    assert tells_the_writers_story(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "I'm so sorry, I can't imagine how lonely that must be for you.",
        "You can always talk to me, I'm here.",
        "Can you help me understand what happened at school?",
        "That sounds exhausting.",
        "My heart goes out to you.",
        "Did you know you can always talk to me?",
        "Thanks for sharing this with me.",
        "It means a lot that you opened up to me.",
        "Please let us know how it goes.",
        "How did you know you were ready to talk about it?",
        "Did you know I'm always here if you want to talk?",
        "I couldn't imagine going through that alone.",
        "I never want you to feel like you're a burden here.",
        "Is there anything I can do to help?",
        "Would you like me to just listen for a while?",
        "I'm so glad you told me about this.",
        "I'm really glad that you reached out to me.",
    ],
)
def test_the_supporters_stance_towards_the_seeker_is_not_their_story(sentence: str) -> None:
    assert not tells_the_writers_story(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        # the shipped adapter's, on a dev post (session 34's closing note): a tie of 'I' and 'you' passed
        "You have a question and I am sorry for any misunderstanding but I don't have the capability to help with"
        " your question.",
        "As an AI language model, I can't know how you feel.",
        "I\u2019m just a bot, but I hope things get better.",
        "Is there anything else I can assist you with?",
        "I'm not able to talk to you, do you know where you are?",  # the shipped adapter's, on dev: a refusal
        # the shipped adapter's first suggestion for a post about losing a job (session 45, a fresh clone)
        "I'm Sorry, I have no idea what you're asking?",
        "Sorry, I don't understand your question.",
    ],
)
def test_the_base_models_assistant_persona_is_out_of_voice(sentence: str) -> None:
    assert out_of_voice(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "I'm not a doctor, but that pain sounds worth showing to one, have you been able to?",
        "Is there anything I can do to help you?",
        "It sounds like a misunderstanding between you and your sister, what did she say?",
        "I can't help but feel for you right now.",
        "I'm not sure what to say, but I'm here for you.",
        "I don't know what you're going through exactly, but it sounds hard.",
    ],
)
def test_a_peers_plain_offers_are_in_voice(sentence: str) -> None:
    assert not out_of_voice(sentence)


@pytest.mark.parametrize(
    ("sentence", "shown"),
    [
        ("That sounds exhausting, how are you holding up?", True),
        ("I've been feeling really down lately too.", False),  # the supporter's story
        ("Message @jo for help, she knows.", False),  # a mention: the safety filter
        ("Sorry for any confusion, I am an AI and cannot assist with that.", False),  # the assistant persona
    ],
)
def test_what_may_be_suggested_is_the_voice_check_and_the_safety_filter_together(sentence: str, shown: bool) -> None:
    from partner_model.rewriter.inference import may_be_suggested

    assert may_be_suggested(sentence, 300) is shown


def test_a_batch_of_candidates_is_shown_or_refused_as_each_would_be_alone() -> None:
    from partner_model.rewriter.inference import may_be_suggested, suggestable

    batch = [
        "I've been feeling really down lately too.",  # out of voice: never reaches the profanity model
        "That sounds exhausting, how are you holding up?",
        "That's so fucking dumb of you.",
        "",
        "What has helped you through days like this before?",
    ]
    assert suggestable(batch, 300) == [may_be_suggested(sentence, 300) for sentence in batch]
    assert suggestable(batch, 300) == [False, True, False, False, True]


def test_without_the_voice_check_only_the_safety_filter_refuses() -> None:
    from partner_model.rewriter.inference import suggestable

    batch = [
        "I've been feeling really down lately too.",  # out of voice, but safe
        "That sounds exhausting, how are you holding up?",
        "Message @jo for help, she knows.",
        "That's so fucking dumb of you.",
    ]
    assert suggestable(batch, 300, voice=False) == [True, True, False, False]

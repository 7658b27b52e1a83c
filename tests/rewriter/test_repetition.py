"""The RL repetition penalty's overlap: a stock sentence reused across posts scores high, a
sentence for the same post or an unrelated one does not, and old steps fall out of the window."""

from __future__ import annotations

import pickle

from partner_model.rewriter.repetition import RecentSentences, overlap, word_bigrams


def test_the_same_sentence_for_another_post_overlaps_fully_and_for_its_own_post_not_at_all() -> None:
    recent = RecentSentences(window=4, per_step=2)
    first = recent.repetition(["job post", "dog post"], ["Do you have a job?", "How old was your dog?"])
    assert first == [0.0, 0.0]
    again = recent.repetition(["exam post", "job post"], ["Do you have a job?", "Do you have a job?"])
    assert again[0] == 1.0  # written for the job post two steps ago and for another post now
    assert again[1] == 1.0  # the exam post's sentence, this step
    alone = RecentSentences(window=4, per_step=2)
    assert alone.repetition(["job post", "job post"], ["Do you have a job?", "Do you have a job?"]) == [0.0, 0.0]


def test_near_copies_overlap_partly_and_unrelated_sentences_not_at_all() -> None:
    stock = word_bigrams("Have you experienced any similar issues you're facing?")
    variant = word_bigrams("Have you experienced any similar issues you're stuck in?")
    specific = word_bigrams("Did your manager say why the shifts were cut?")
    assert 0.5 < overlap(stock, variant) < 1.0
    assert overlap(stock, specific) == 0.0
    assert overlap(word_bigrams("Do you have a job?"), word_bigrams("do you have a JOB")) == 1.0


def test_sentences_older_than_the_window_no_longer_count_and_the_window_survives_a_checkpoint() -> None:
    recent = RecentSentences(window=1, per_step=1)
    recent.repetition(["a"], ["I am sorry to hear that."])
    restored = pickle.loads(pickle.dumps(recent))  # RL keeps it in its checkpoint, so a resumed run sees it
    assert restored.repetition(["b"], ["I am sorry to hear that."]) == [1.0]
    recent.repetition(["c"], ["Something else entirely."])
    assert recent.repetition(["d"], ["I am sorry to hear that."]) == [0.0]

"""The RL repetition penalties: a stock sentence reused across posts, even reworded, scores high and pays;
a sentence for the same post or a specific one scores low and, under the floor, pays nothing; old steps
fall out of the window. A stock form ("Do you have ...?") pays for the share of other posts' sentences
that open as it does, whatever words follow."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from partner_model.embedding import SentenceEmbedder
from partner_model.rewriter.repetition import RecentOpenings, RecentSentences, opening, penalty


def _unit(*values: float) -> torch.Tensor:
    return torch.nn.functional.normalize(torch.tensor([values], dtype=torch.float32), dim=-1)[0]


def test_a_sentence_counts_against_other_posts_only_and_dissimilar_ones_not_at_all() -> None:
    recent = RecentSentences(window=4, per_step=2)
    assert recent.repetition(["job", "dog"], torch.stack([_unit(1, 0, 0), _unit(0, 1, 0)])) == [0.0, 0.0]
    again = recent.repetition(["exam", "job"], torch.stack([_unit(1, 0, 0), _unit(1, 0, 0)]))
    assert again == pytest.approx([1.0, 1.0])  # the job post's sentence of a step ago, and the exam post's now
    alone = RecentSentences(window=4, per_step=2)
    same_post = alone.repetition(["job", "job"], torch.stack([_unit(1, 0, 0), _unit(1, 0, 0)]))
    assert same_post == [0.0, 0.0]
    opposite = RecentSentences(window=4, per_step=2).repetition(["a", "b"], torch.stack([_unit(1, 0), _unit(-1, 0)]))
    assert opposite == [0.0, 0.0]  # floored: unlike is not rewarded


def test_sentences_older_than_the_window_no_longer_count_and_the_window_survives_a_checkpoint() -> None:
    recent = RecentSentences(window=1, per_step=1)
    recent.repetition(["a"], _unit(1, 0)[None])
    restored = pickle.loads(pickle.dumps(recent))  # RL keeps it in its checkpoint, so a resumed run sees it
    assert restored.repetition(["b"], _unit(1, 0)[None]) == pytest.approx([1.0])
    recent.repetition(["c"], _unit(0, 1)[None])
    assert recent.repetition(["d"], _unit(1, 0)[None]) == [0.0]


def test_a_reworded_stock_question_repeats_more_than_a_question_about_the_post(real_encoder_dir: Path) -> None:
    embedder = SentenceEmbedder.load(real_encoder_dir)
    recent = RecentSentences(window=4, per_step=1)
    recent.repetition(["breakup post"], embedder.embed(["Do you know anyone who has been through this?"]))
    reworded, specific = (
        recent.repetition([post], embedder.embed([sentence]))[0]
        for post, sentence in [
            ("job post", "Do you know of anyone who's gone through something like this?"),
            ("exam post", "Did your teacher say when you can retake the chemistry exam?"),
        ]
    )
    assert reworded > 0.6 and specific < 0.3
    charged = penalty(torch.tensor([reworded, specific]), weight=10.0, floor=0.5).tolist()
    assert charged[0] > 1.0 and charged[1] == 0.0  # above the floor only: the specific question is free


def test_a_stock_opening_pays_for_its_share_of_other_posts_sentences_whatever_words_follow() -> None:
    forms = RecentOpenings(window=2, per_step=2, words=3)
    forms.shares(["job", "dog"], ["Do you have a new job yet?", "Do you have any pets left?"])
    shares = forms.shares(["exam", "job"], ["Do you have... any revision plan?", "How did your manager tell you?"])
    # The exam post's question opens as both earlier ones (written for other posts), the job post's as none.
    assert shares == pytest.approx([2 / 3, 0.0])
    charged = penalty(torch.tensor(shares), weight=5.0, floor=0.2).tolist()
    assert charged[0] == pytest.approx(5.0 * (2 / 3 - 0.2)) and charged[1] == 0.0


def test_openings_of_the_same_post_empty_sentences_and_old_steps_do_not_count() -> None:
    forms = RecentOpenings(window=1, per_step=2, words=3)
    assert forms.shares(["job", "job"], ["Do you have a CV?", "Do you have savings?"]) == [0.0, 0.0]
    assert forms.shares(["dog", "cat"], ["", ""]) == [0.0, 0.0]  # a sentence never written has no form
    restored = pickle.loads(pickle.dumps(forms))  # RL keeps it in its checkpoint
    # The job post's step fell out of the window of one step; only the empty ones remain.
    assert restored.shares(["exam"], ["Do you have a tutor?"]) == [0.0]
    assert opening("  I'm SO sorry, truly.", 2) == "i'm so"

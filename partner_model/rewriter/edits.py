"""An edit is one sentence inserted before position i (i = n means at the end) or replacing sentence i."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from partner_model.text import join_sentences


class EditKind(StrEnum):
    INSERT = "insert"
    REPLACE = "replace"


@dataclass(frozen=True)
class Edit:
    kind: EditKind
    position: int
    sentence: str

    def apply(self, sentences: list[str]) -> str:
        """The new reply.

        >>> Edit(EditKind.INSERT, 1, "That sounds hard.").apply(["I see.", "Try sleeping more."])
        'I see. That sounds hard. Try sleeping more.'
        >>> Edit(EditKind.REPLACE, 0, "I'm sorry.").apply(["ok.", "Call a friend."])
        "I'm sorry. Call a friend."
        """
        if self.kind is EditKind.INSERT:
            if not 0 <= self.position <= len(sentences):
                raise ValueError(f"insert position {self.position} outside 0..{len(sentences)}")
            return join_sentences([*sentences[: self.position], self.sentence, *sentences[self.position :]])
        if not 0 <= self.position < len(sentences):
            raise ValueError(f"replace position {self.position} outside 0..{len(sentences) - 1}")
        return join_sentences([*sentences[: self.position], self.sentence, *sentences[self.position + 1 :]])

    def rest(self, sentences: list[str]) -> str:
        """The reply's sentences that stay beside the new one: the context its coherence is measured against.

        >>> Edit(EditKind.REPLACE, 0, "I'm sorry.").rest(["ok.", "Call a friend."])
        'Call a friend.'
        """
        skip = 1 if self.kind is EditKind.REPLACE else 0
        return " ".join(sentences[: self.position] + sentences[self.position + skip :])


def actions_for(n_sentences: int) -> list[tuple[EditKind, int]]:
    """Every edit position for a reply of n sentences: n + 1 inserts, n replaces.

    >>> actions_for(2)
    [(<EditKind.INSERT: 'insert'>, 0), (<EditKind.INSERT: 'insert'>, 1), (<EditKind.INSERT: 'insert'>, 2), \
(<EditKind.REPLACE: 'replace'>, 0), (<EditKind.REPLACE: 'replace'>, 1)]
    """
    return [(EditKind.INSERT, i) for i in range(n_sentences + 1)] + [(EditKind.REPLACE, i) for i in range(n_sentences)]

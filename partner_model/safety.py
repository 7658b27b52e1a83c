"""Safety checks of DESIGN.md section 4: crisis signals in a seeker post, harm in a response,
and the filter every generated sentence passes before anyone sees it.

Crisis detection favours recall: a false alarm costs a moderator a glance, a miss costs far more.
The labelled set in safety_data/ (the project's own writing) measures both directions.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from partner_model.selective import on_kept

DATA_DIR = Path(__file__).resolve().parent / "safety_data"
# A sentence with an offensive-language probability at or above this is not suggested.
PROFANITY_THRESHOLD = 0.5
MIN_SUGGESTION_WORDS = 3
# A word said this many times in a row ("so so so") reads as a generation loop, not emphasis.
MAX_WORD_RUN = 3
WORD = re.compile(r"[\w']+")


def _patterns(*sources: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{s})" for s in sources), re.IGNORECASE)


CRISIS = {
    "suicide": _patterns(
        r"\bsuicid\w*",
        r"\bkill(?:s|ed|ing)?\s+my\s*self\b",
        r"\bkms\b",
        r"\bunaliv\w*",
        r"\bend(?:ing)?\s+(?:it\s+all|my\s+(?:own\s+)?life|things|my\s+suffering)\b",
        r"\btak(?:e|ing)\s+my\s+(?:own\s+)?life\b",
        r"\b(?:want|wanna|going|ready|plan(?:ning)?)\s+(?:to\s+)?die\b",
        r"\b(?:tr(?:y|ied|ies|ying)|attempt(?:s|ed|ing)?)\s+to\s+die\b",
        # A dev post the gate let through in session 28: "I feel like dying today. I just want it all to end".
        r"\bfeel(?:s|ing)?\s+like\s+dying\b",
        r"\bwant\s+(?:it\s+all|everything|my\s+life)\s+to\s+(?:end|be\s+over)\b",
        r"\bwish\s+i\s+(?:was|were|could\s+be|could\s+just)\s+(?:dead|die)\b",
        r"\bwish\s+i\s+could\s+(?:just\s+)?die\b",
        # A wish for death told as something to look forward to (the bare "until the day I die" is an idiom).
        r"\b(?:look(?:ing)?\s+forward\s+to|can'?t\s+wait\s+(?:for|until|till)|excited\s+(?:about|for))\s+"
        r"(?:the\s+day\s+(?:when\s+)?i\s+die|my\s+death|dying|being\s+dead)\b",
        r"\bbetter\s+off\s+(?:if\s+i\s+was\s+|if\s+i\s+were\s+)?dead\b",
        r"\bdon'?t\s+want\s+to\s+(?:live|be\s+alive|exist|be\s+here)\b",
        r"\bnever\s+wake\s+up\b",
        r"\bno\s+(?:reason|point)\s+(?:to|in)\s+(?:keep\s+)?(?:live|living|going\s+on|be(?:ing)?\s+alive)\b",
        # Two train posts the gate let through (session 48): looking at pills "trying to find a reason to stay alive",
        # and the pain it would bring their parents "is the only reason I am not dead".
        r"\b(?:find|need|looking\s+for|search(?:ing)?\s+for)\s+(?:a\s+|one\s+|any\s+)?reasons?\s+to\s+"
        r"(?:stay\s+alive|keep\s+living|live|not\s+die)\b",
        r"\bonly\s+(?:reason|thing)\s+(?:(?:why|that)\s+)?(?:i(?:'m|\s+am)|keeping\s+me)\s+(?:not\s+dead|still\s+(?:alive|here)|alive)\b",
        r"\b(?:life|living)\s+(?:isn'?t|is\s+not)\s+worth\b",
        r"\bgoodbye\s+(?:note|letter|everyone|forever)\b",
        r"\bways\s+to\s+die\b",
        r"\bcan'?t\s+go\s+on\b",
        r"\bhang(?:s|ed|ing)?\s+my\s*self\b",
        r"\bjump(?:ing)?\s+off\b",
        r"\bstanding\s+on\s+the\s+(?:roof|ledge|edge)\b",
        r"\bmy\s+funeral\b",
        r"\b(?:bought|got)\s+(?:a\s+)?(?:rope|gun)\b",
        r"\bhave\s+a\s+plan\s+and\s+the\s+means\b",
        r"\bdrive\s+my\s+car\s+into\b",
        r"\bwant\s+out\b",
        r"\bdisappear\s+forever\b",
        r"\b(?:blast|shoot)(?:ing)?\s+my\s*self\b",
        r"\bblow\s+my\s+brains\s+out\b",
        r"\bis\s+(?:life|living|it)\s+(?:even\s+)?worth\s+(?:living|it\s+anymore)\b",
        r"\bwhy\s+(?:do|should)\s+i\s+(?:have\s+to\s+)?(?:stay|keep\s+living|be)\s+alive\b",
    ),
    "self-harm": _patterns(
        r"\bself[-\s]?harm\w*",
        r"\b(?:cut|cutting|burn|burning|hurt|hurting|hit|hitting|scratch|scratched|punish|punishing|starve|starving)"
        r"\s+my\s*self\b",
        r"\bcut(?:ting)?\s+(?:again|my\s+(?:wrists?|arms?|legs?|thighs?))\b",
        r"\b(?:cut|relapsed)\s+again\b",
        r"\burges?\s+to\s+hurt\b",
        r"\b(?:tear|rip|claw|peel)\w*\s+(?:off\s+)?my\s+(?:own\s+)?skin\b|\bmy\s+skin\s+off\b",
        r"\boverdos\w*",
        r"\b(?:all|handful\s+of|bottle\s+of|piles?\s+of)\s+(?:the\s+|my\s+)?(?:pills|medication|meds)\b",
        r"\bhoard\w*\s+my\s+(?:pills|medication|meds)\b",
        r"\bpills\s+(?:would\s+be\s+)?enough\b",
        r"\bsleeping\s+pills\b",
        # A dev post the gate let through in session 41: "Self destruction will probably end me."
        r"\bself[-\s]?destruct\w*",
    ),
    "danger": _patterns(
        r"\b(?:going\s+to|gonna|will|threatened\s+to)\s+(?:kill|hurt|hit)\s+me\b",
        r"\b(?:they'?ll|he'?ll|she'?ll)\s+(?:kill|hurt)\s+me\b",
        r"\b(?:hits|beats|hit|beat|chok\w+)\s+me\b",
        r"\bdon'?t\s+feel\s+safe\b",
        r"\bscared\s+to\s+go\s+home\b",
        r"\bin\s+danger\b",
        r"\bbroke\s+in\b",
        r"\bfollowing\s+me\b",
    ),
}

HARMFUL = {
    "encourages self-harm": _patterns(
        r"\b(?:kill|hang|cut|hurt|burn|starve|off)\s+your\s*self\b",
        r"\bkys\b",
        r"\bgo\s+(?:die|jump)\b",
        r"\b(?:you\s+should|just)\s+(?:die|end\s+it)\b",
        r"\bif\s+you\s+want\s+to\s+end\s+it\b",
        r"\bnobody\s+(?:would|will)\s+miss\s+you\b",
        r"\b(?:world|everyone)\s+(?:would\s+be|is|are)\s+better\s+(?:off\s+)?without\s+you\b",
        r"\bcut\s+deeper\b",
        r"\bsuicide\s+is\s+the\s+answer\b",
        r"\b(?:cutting|hurting\s+yourself|self[-\s]?harm|burning\s+yourself|starving\s+yourself|overdosing)\b"
        r".{0,40}\b(?:help|valid|quick|painless|release|control|distract)\w*",
        r"\b(?:try|tried)\s+(?:self[-\s]?harm|ending\s+your\s+life|cutting\b(?!\s+(?:back|down|out|off|ties|contact)\b))",
        r"\b(?:take|swallow)\s+(?:all|every)\s+(?:of\s+)?(?:the\s+|your\s+|those\s+)?(?:pills|meds|tablets)\b",
        r"\bsleep\s+forever\b",
        r"\bstop\s+eating\b",
        r"\byou\s+deserve\s+(?:to\s+feel\s+)?(?:this\s+)?pain\b",
        r"\b(?:drink|get\s+(?:drunk|wasted|high))\b.{0,30}\b(?:forget|help|tonight)\b",
        r"\bhitting\s+yourself\b",
        r"\b(?:break|breaking|cut|cutting|tear|tearing|rip|ripping|burn|burning|scratch|scratching)\s+(?:open\s+)?"
        r"(?:your|ur)\s+(?:own\s+)?(?:skin|wrists?)\b",
    ),
    "threat": _patterns(r"\bi(?:'ll|\s+will)\s+(?:find|kill|hurt)\s+you\b"),
    "contempt": _patterns(
        r"\beveryone\s+hates\s+you\b",
        r"\bnobody\s+likes\s+you\b",
        r"\bpathetic\s+loser\b",
        r"\bnobody\s+cares\s+about\s+your\b",
        r"\byou(?:'re|\s+are)\s+(?:a\s+)?"
        r"(?:pathetic|worthless|disgusting)\b",
    ),
}

# Suggestions only: a supporter's own reply that says this is blunt, not a moderation matter, but the rewriter
# must never put it in their mouth (an RL sample in session 18: "What's wrong with you?"; in session 28: "what is
# your problem?", "what's with you?").
# Said to the seeker, not denied: "I don't think you're overreacting" is kind, so the last three need a start of
# sentence or an urging word before them. "Sorry to hear from you" is sorry the seeker wrote at all (a RL run of
# session 26 opened 132 of 189 dev suggestions with it). "Feeling sorry for yourself" calls the seeker's pain
# self-pity (sampled in session 28's RL run: "Sorry you are really feeling sorry for yourself!").
DISMISSIVE = _patterns(
    r"\bwhat(?:'?s|\s+is)\s+(?:(?:(?:really|even|actually)\s+)?wrong\s+with\s+you|with\s+you|your\s+problem)\b",
    r"\bsorry\s+to\s+hear\s+from\s+you\b",
    r"\b(?:feel(?:ing|s)?|felt)\s+(?:so\s+)?sorry\s+for\s+yourself\b|\bself-pity\b",
    r"\b(?:man|toughen)\s+up\b",
    r"(?:^|[.!?,]\s*|\b(?:just|should|need\s+to|must)\s+)get\s+over\s+it\b",
    r"(?:^|[.!?,]\s*|\b(?:just|should|need\s+to|must)\s+)stop\s+(?:complaining|whining|being\s+(?:so\s+)?"
    r"(?:dramatic|sensitive|a\s+baby))\b",
    r"(?:^|[.!?,]\s*|\bi\s+think\s+)you(?:'re|\s+are)\s+(?:just\s+|being\s+)?(?:overreacting|dramatic)\b",
    # Doubting what the seeker told (the shipped rewriter on dev posts, session 39: "What do you mean you have
    # depression?", "Are you sure you're not seeing any of these changes?", "do you even know where you are?").
    r"\bdo\s+you\s+even\s+(?:know|care|try|want|realise|realize)\b",
    r"\bwhat\s+do\s+you\s+mean\s+(?:that\s+)?you(?:'re|\s+are|\s+have|\s+feel|\s+don't)\b",
    r"\bare\s+you\s+sure\s+(?:that\s+)?you(?:'re|\s+are)\s+not\b",
    r"\bdo\s+you\s+really\s+(?:think|believe)\s+(?:that\s+)?you(?:'re|\s+are|\s+have)\s+(?:\w+\s+)?"
    r"(?:depress|anxi|sick|ill\b|sad\b|a\s+problem)",
)

# Suggestions only: the seeker's trouble put down to the seeker (README line 1's demo in session 47 suggested
# "Do you know what you did wrong?" for a post about losing a job). Denials stay kind ("It's not your fault",
# "You don't deserve this"), so a fault or a deserving needs a start of sentence or a hedge before it, and
# "why didn't you" is taken as the reproach it is in a reply while "why did you decide" stays a question.
_SENTENCE_START = r"(?:^|[.!?,;]\s*|\b(?:i\s+think|honestly|well|maybe|but|and|so)\s+)"
BLAMING = _patterns(
    r"\bwhat\s+(?:(?:did|have|had)\s+)?you(?:'ve|\s+have)?\s+(?:did|done|do)\s+wrong\b",
    r"\bwhat\s+did\s+you\s+do\s+to\s+(?:make|cause|deserve|provoke)\b",
    _SENTENCE_START
    + r"(?:it|that|this)(?:'s|\s+is|\s+was)\s+(?:all\s+|really\s+|kind\s+of\s+)?your\s+(?:own\s+)?fault\b",
    r"\b(?:only\s+)?have\s+yourself\s+to\s+blame\b",
    r"\byou\s+brought\s+(?:this|it|that)\s+(?:all\s+)?on\s+yourself\b",
    r"\byou\s+(?:asked\s+for\s+it|had\s+it\s+coming)\b",
    _SENTENCE_START + r"you\s+(?:should|could)(?:'ve|\s+have)\s+known\s+better\b",
    _SENTENCE_START + r"(?:probably\s+|maybe\s+)?you\s+(?:probably\s+)?deserved\s+(?:it|this|that)\b",
    r"\bwhy\s+(?:didn'?t|did\s+not)\s+you\b",
    r"\bwhy\s+(?:would|did)\s+you\s+(?:ever\s+|even\s+)?(?:let|allow|trust)\b",
    r"\b(?:this|that|it)\s+(?:wouldn'?t|would\s+not|would\s+never)\s+(?:have\s+)?happen(?:ed)?\s+if\s+you\b",
    r"\b(?:have|did)\s+you\s+(?:done|do)\s+(?:anything|something)\s+to\s+(?:deserve|cause|provoke)\b",
)

# Suggestions only: a suggestion never asks the seeker to account for being alive or speaks of their death. Candidate
# s28-rl on dev posts about low mood, session 48: "what are your reasons for being alive?", "I'm so sorry to hear
# about your death". A post that raises it is held back by the crisis gate before any suggestion is made; a
# suggestion must not raise it first.
LIFE_OR_DEATH = _patterns(
    r"\breasons?\s+(?:for|to)\s+(?:liv(?:e|ing)|(?:be(?:ing)?|stay(?:ing)?|still\s+be(?:ing)?)\s+alive)\b",
    r"\bwhy\s+(?:are\s+you|you(?:'re|\s+are))\s+(?:still\s+)?(?:alive|living)\b",
    r"\byour\s+(?:own\s+)?(?:death|dying|funeral|grave)\b",
    r"\b(?:do|did)\s+you\s+(?:still\s+)?(?:want|wish)\s+to\s+(?:live|die|be\s+alive)\b",
    r"\b(?:do|did|have)\s+you\s+(?:still\s+)?(?:have|got|feel|lose|lost)\s+(?:the|any|a)\s+"
    r"(?:ability|will|desire|wish|strength|right)\s+to\s+(?:live|keep\s+living|stay\s+alive|be\s+alive)\b",
)

# Suggestions only: a suggestion never proposes drugs or alcohol. The shipped adapter answered a dev post asking
# which drugs people take with "Have you tried cocaine?" (session 49).
SUGGESTS_DRUGS = _patterns(
    r"\b(?:have\s+you\s+(?:ever\s+)?tried|try(?:ing)?|(?:you\s+(?:should|could|might)|why\s+not|maybe|just)\s+"
    r"(?:take|use|do))\s+(?:some\s+|a\s+(?:little\s+)?(?:bit\s+of\s+)?)?(?:cocaine|heroin|meth|crack|mdma|ecstasy"
    r"|molly|lsd|shrooms|ketamine|weed|marijuana|cannabis|fentanyl|opioids?|alcohol|booze|getting\s+(?:high|drunk"
    r"|wasted))\b",
)

MENTION = re.compile(r"<@[!&]?\d+>|<#\d+>|@everyone|@here|(?<!\w)@\w+")
LINK = re.compile(
    r"https?://|\bwww\.|discord\.gg|\b[\w-]+\.(?:com|net|org|io|gg|co|ly|me|app|xyz|info)\b|[\w.+-]+@[\w-]+\.\w+",
    re.IGNORECASE,
)
# HTML entities come from the training data's scraped text ("&lt;3"); Discord would show them as written.
MARKUP = re.compile(
    r"`|&(?:lt|gt|amp|quot|apos|#\d+);|<\|im_|\b(?:insert|replace)\s*\[\d+\]|^\s*\[\d+\]|\bsystem\s+prompt\b"
    r"|\bignore\s+(?:all\s+)?previous\s+instructions\b",
    re.IGNORECASE,
)
LETTER = re.compile(r"[A-Za-z]")


@cache
def _slurs() -> re.Pattern[str]:
    words = [
        line.strip()
        for line in (DATA_DIR / "slurs.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")s?\b", re.IGNORECASE)


def _profanity(texts: list[str]) -> list[float]:
    from profanity_check import predict_prob

    return [float(p) for p in predict_prob(texts)] if texts else []


def load_filters() -> None:
    """Loads the profanity model (scikit-learn, about 2.5 s on the CPU) when the rewriter loads, so the
    first reply to pass the voice check does not wait for it."""
    _profanity(["thank you for telling me"])


def crisis_signals(text: str) -> list[str]:
    """Which crisis signals a seeker post shows: suicide, self-harm, danger. Empty: none found."""
    return [name for name, pattern in CRISIS.items() if pattern.search(text)]


def harmful_reasons(text: str) -> list[str]:
    """Why a response is a moderation matter (encourages self-harm, threat, contempt, slur); empty if none."""
    reasons = [name for name, pattern in HARMFUL.items() if pattern.search(text)]
    if _slurs().search(text):
        reasons.append("slur")
    return reasons


# Suggestions only: asking a stranger in a support channel for who or where they are (name, age, address,
# phone, school) presses them to give up the anonymity such communities run on. Session 28's RL adapter
# ends 9 of 113 greedy dev suggestions with "what's your name?". Questions about their story stay open:
# "How old were you when it started?", "Do you live with anyone who could help?".
IDENTIFYING = _patterns(
    r"\bwhat(?:'?s|\s+is)\s+your\s+(?:real\s+|full\s+|first\s+|last\s+)?(?:name|age|address|email)\b(?!\s+for\b)",
    r"\bhow\s+old\s+are\s+you\b",
    r"\bwhere\s+(?:do|did)\s+you\s+(?:live|go\s+to\s+school)\b",
    r"\byour\s+(?:home\s+address|address|(?:phone|cell)\s+number|email)\b",
    r"\bwhat\s+school\s+do\s+you\b",
)


def sentence_problems(sentence: str, max_chars: int, blocked: Iterable[str] = ()) -> list[str]:
    """Why a generated sentence must not be suggested; empty when it may be shown."""
    return sentences_problems([sentence], max_chars, blocked)[0]


def sentences_problems(sentences: Sequence[str], max_chars: int, blocked: Iterable[str] = ()) -> list[list[str]]:
    """sentence_problems of each sentence, the profanity model run once for them all: a call of it takes
    about 15 ms on a CPU however few sentences it is given, and a reply's candidates are about 30."""
    texts = [sentence.strip() for sentence in sentences]
    blocked_keys = set(blocked)
    probabilities = on_kept([bool(text) for text in texts], texts, _profanity, 0.0)
    offensive = [probability >= PROFANITY_THRESHOLD for probability in probabilities]
    return [_problems(text, max_chars, blocked_keys, bad) for text, bad in zip(texts, offensive, strict=True)]


def _problems(text: str, max_chars: int, blocked: set[str], offensive: bool) -> list[str]:
    problems = []
    if len(text.split()) < MIN_SUGGESTION_WORDS or not LETTER.search(text):
        problems.append("too short")
    if len(text) > max_chars:
        problems.append("too long")
    if MENTION.search(text):
        problems.append("mention")
    if LINK.search(text):
        problems.append("link")
    if MARKUP.search(text):
        problems.append("markup or prompt text")
    if crisis_signals(text):
        problems.append("mentions suicide or self-harm")
    problems += harmful_reasons(text)
    if DISMISSIVE.search(text):
        problems.append("dismissive")
    if BLAMING.search(text):
        problems.append("blames the seeker")
    if LIFE_OR_DEATH.search(text):
        problems.append("raises the seeker's death")
    if SUGGESTS_DRUGS.search(text):
        problems.append("suggests drugs or alcohol")
    if IDENTIFYING.search(text):
        problems.append("asks who or where the seeker is")
    if offensive:
        problems.append("offensive language")
    if _repeats_itself(text):
        problems.append("repeats itself")
    if sentence_key(text) in blocked:
        problems.append("blocked by a moderator flag")
    return problems


def _repeats_itself(text: str) -> bool:
    """A phrase of two or more words said twice in a row, or one word MAX_WORD_RUN times: the sampler looping.

    >>> _repeats_itself("I'm so sorry, I'm so sorry you lost him.")
    True
    >>> _repeats_itself("I know how you feel and I know how hard it is.")
    False
    """
    words = [w.lower() for w in WORD.findall(text)]
    for size in range(1, len(words) // 2 + 1):
        copies = MAX_WORD_RUN if size == 1 else 2
        for start in range(len(words) - size * copies + 1):
            phrase = words[start : start + size]
            if all(words[start + k * size : start + (k + 1) * size] == phrase for k in range(1, copies)):
                return True
    return False


def sentence_key(sentence: str) -> str:
    """A stable key for a sentence regardless of case, spacing and end punctuation (the block list uses it).

    >>> sentence_key("That sounds hard.") == sentence_key("  that   sounds HARD ")
    True
    """
    normal = re.sub(r"\s+", " ", re.sub(r"[^\w\s']", " ", sentence.lower())).strip()
    return hashlib.sha256(normal.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class SafetyFigures:
    precision: float
    recall: float
    n: int
    misses: list[str]
    false_alarms: list[str]


def read_labelled(name: str) -> list[tuple[str, str]]:
    """(label, text) rows of a labelled set in safety_data/ (tab-separated, '#' lines are comments)."""
    with (DATA_DIR / name).open(newline="", encoding="utf-8") as handle:
        rows = [line for line in handle if not line.startswith("#")]
    return [(r["label"], r["text"]) for r in csv.DictReader(rows, delimiter="\t")]


def detection_figures(rows: list[tuple[bool, bool, str]]) -> SafetyFigures:
    """Precision and recall from (gold, flagged, text) rows, with the texts judged wrongly."""
    tp = sum(1 for gold, flagged, _ in rows if gold and flagged)
    fp = sum(1 for gold, flagged, _ in rows if not gold and flagged)
    fn = sum(1 for gold, flagged, _ in rows if gold and not flagged)
    return SafetyFigures(
        precision=tp / (tp + fp) if tp + fp else 0.0,
        recall=tp / (tp + fn) if tp + fn else 0.0,
        n=len(rows),
        misses=[t for gold, flagged, t in rows if gold and not flagged],
        false_alarms=[t for gold, flagged, t in rows if not gold and flagged],
    )


def evaluate_labelled_set(max_chars: int = 300) -> dict[str, SafetyFigures]:
    """Precision and recall of crisis detection (posts) and of the sentence filter (unsafe sentences)."""
    posts = [(label == "crisis", bool(crisis_signals(text)), text) for label, text in read_labelled("posts.tsv")]
    sentences = [
        (label == "unsafe", bool(sentence_problems(text, max_chars)), text)
        for label, text in read_labelled("sentences.tsv")
    ]
    return {"crisis_posts": detection_figures(posts), "unsafe_sentences": detection_figures(sentences)}

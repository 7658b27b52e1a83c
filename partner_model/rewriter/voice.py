"""Whose story a suggested sentence tells: the seeker's, or one the rewriter made up for the supporter.

Half of the warm-start targets are EPITOME responders' own experiences (which EPITOME counts as
interpretations), and RL's classifier reward favours sentences dense with feeling words, so many of
the policy's sentences speak as if the supporter were the one suffering ("I've been feeling really down lately"),
ask the seeker for help ("Have you ever been there to help me?") or claim an experience the
supporter never wrote of ("I feel the same way", "I just got off that surgery myself") or a past with the
seeker they never had ("I'm really sorry I didn't have time to help you"). A
suggestion puts words in a real person's mouth: what they went through is theirs to tell, so such
sentences are not suggested. Supportive first-person phrases ("I'm sorry", "I hope", "I'm here",
"talk to me", "thanks for sharing this with me") are the supporter's stance towards the seeker and do
not count as their story. Any other "me" makes the supporter the topic, and so do questions about what
the seeker did, feels or knows of them ("Have you tried to talk to me?", "How did you know I was looking
for you?") or asks of "us": the seeker came with their own trouble, not to account for a relationship the
rewriter invented.

The base model was tuned as a chat assistant, and under sampling it now and then falls back into that
persona: it refuses ("I'm not able to talk to you"), apologises "for any confusion", says it is an AI
("I am sorry for any misunderstanding but I don't have the capability to help with your question", the
shipped adapter on a dev post) or cannot make out the "question" ("I have no idea what you're asking?").
No supporter's suggestion speaks like that, so those sentences are not suggested either.

The labelled set safety_data/voice_sentences.tsv (the project's own writing, and sentences the
rewriter generated on dev posts) measures the check both ways.
"""

from __future__ import annotations

import re

from partner_model.safety import SafetyFigures, detection_figures, read_labelled

SET_NAME = "voice_sentences.tsv"  # in partner_model/safety_data/
OUT_OF_VOICE = frozenset({"writer", "assistant"})  # the set's labels of sentences never suggested

# Stance: the supporter turned towards the seeker. Removed before the other patterns look and first-person
# words are counted ("talk with me" is an offer, "time with me" is not).
STANCE = re.compile(
    "|".join(
        (
            # Thanks for having been told ("I'm so glad you told me about this"), before "I'm glad" alone is taken.
            r"\b(?:i(?:'m|\s+am)\s+(?:(?:so|really|very|just)\s+)*)?(?:glad|thank\s+you|thanks|happy|grateful)\b"
            r"[^.?!]{0,20}?\byou\s+(?:\w+\s+)?(?:told|reached\s+out\s+to|came\s+to|opened\s+up\s+to|wrote\s+to"
            r"|messaged|texted|talked\s+to)\s+me\b",
            r"\bi(?:'m|\s+am|\s+was)\s+(?:(?:so|really|very|truly|just|deeply)\s+)*sorry\b",
            r"\bi\s+(?:(?:really|truly|just|can|do|also)\s+)?(?:hope|understand|know|think|believe|imagine|see|hear"
            r"|wish|bet|get\s+it|care|appreciate|admire|respect|agree)\b",
            r"\bi\s+(?:can|could)(?:n't|'t|not|\s+not|\s+only)\s+imagine\b",
            r"\bi(?:'m|\s+am)\s+(?:(?:always|still|so|really|very|just)\s+)*(?:here|around|glad|happy|proud|sure|listening)\b",
            r"\bi(?:'d|\s+would)\s+(?:love|like)\s+to\s+(?:hear|know|listen|understand)\b",
            r"\bi\s+(?:\w+\s+){0,2}for\s+you\b",
            r"\b(?:(?:talk|messag|text|writ|reach|dm|tell|vent)\w*(?:\s+out)?|com(?:e|es|ing)|open\w*\s+up)\s+(?:to\s+)?me\b",
            r"\b(?:talk|chat|speak)(?:s|ed|ing)?\s+with\s+me\b",
            r"\bshar(?:e|es|ed|ing)\s+(?:\w+\s+){0,2}with\s+me\b",
            r"\btrust(?:s|ed|ing)?\s+me\s+with\b",
            r"\b(?:walk|take)\s+me\s+through\b",
            r"\bgive\s+me\s+(?:an?\s+)?(?:example|idea|sense)\b",
            r"\bmeans?\s+(?:a\s+lot|so\s+much|a\s+great\s+deal)\s+to\s+me\b",
            r"\blet\s+me\b",
            # Offers of help: "Is there anything I can do?", "Would you like me to just listen?"
            r"\b(?:anything|something|what)\s+(?:else\s+)?i\s+(?:can|could)\s+do\b",
            r"\b(?:want|like)\s+me\s+to\s+(?:(?:just|come|stay|try)\s+)?(?:listen|help|stay|call|check|sit|text"
            r"|message|do)\b",
            r"\b(?:forgive|excuse|correct)\s+me(?:\s+if\s+i(?:'m|\s+am)\s+wrong)?\b",
            r"\bhelp\s+me\s+(?:understand|see)\b",
            r"\bmy\s+(?:heart|thoughts|prayers)\s+(?:goes|go|are|is)\s+(?:out\s+)?(?:to|with)\s+you\b",
            r"\bmy\s+(?:dms?|inbox|door)\s+(?:is|are)\s+(?:always\s+)?open\b",
        )
    ),
    re.IGNORECASE,
)
# Asking what the seeker did towards the supporter ("Have you tried to talk to me?", "Why did you stop texting me?")
# is about the two of them, although "talk to me" on its own is an offer. Looked for before stance is removed.
PAST_CONTACT = re.compile(
    r"\b(?:(?:have|had|did|didn't|haven't)\s+you|(?:how|when|why|where)\s+you(?:'ve|'d|\s+have|\s+had)?)\s+"
    r"(?:(?!you\b|can\b|could\b)\w+\s+){0,3}?(?:talk|text|call|messag"
    r"|writ|wrote|told|spoke|spoken|reach|vent|open)\w*\s+(?:\w+\s+)?(?:to\s+|with\s+)?me\b",
    re.IGNORECASE,
)
# Asking what the seeker knows or noticed of the writer's past ("How did you know I was looking for you?"),
# looked for before stance is removed too: "looking for you" alone would be an offer.
NOTICED_THE_WRITER = re.compile(
    r"\b(?:did|do|have)\s+you\s+(?:know|find\s+out|notic|remember|realis|realiz|see|hear)\w*\s+(?:that\s+)?"
    r"i(?:'d|'ve|\s+(?:was|had|have|did|went|used|felt|got|stopped|left|lost|tried)"
    # "Did you know that I'm the same guy you were seeing?"; "Did you know I'm here for you?" is an offer.
    r"|(?:'m|\s+am)\s+(?!(?:(?:always|still|so|really|just)\s+)*(?:here|around|sorry|glad|happy|proud|listening)\b))\b",
    re.IGNORECASE,
)
# Something the writer made or sent ("the poem I wrote for you"), looked for before stance is removed too:
# "... for you" alone would be an offer.
WRITERS_WORK = re.compile(r"\bi(?:'ve|\s+have)?\s+(?:wrote|written|made|drew|drawn|sent)\b", re.IGNORECASE)
FIRST_PERSON = re.compile(r"\b(?:i|me|my|myself|mine|i'm|i've|i'd|i'll|im|ive)\b", re.IGNORECASE)
# A tie of first- and second-person words is the writer's story when one of the first-person words is a
# possessive: "How did you know she would stop responding to my messages?" asks about the supporter's life.
POSSESSIVES = frozenset({"my", "mine"})
SECOND_PERSON = re.compile(r"\b(?:you|your|yours|yourself|you're|you've|you'd|you'll|u|ur|youre)\b", re.IGNORECASE)
# Asking the seeker to look after the writer, or claiming the seeker's experience as the writer's own.
ABOUT_THE_WRITER = re.compile(
    "|".join(
        (
            r"\bhelp\s+me\b(?!\s+(?:understand|see))",
            r"\b(?:about|for)\s+(?:me|us)\b(?!\s+to\b)",  # "for us to understand" asks to hear the seeker
            r"\bwhat\s+i\s+(?:told|said|wrote|sent|asked)\b",
            r"\bi(?:'ve\s+been|\s+have\s+been|'m|\s+am|\s+was)\s+(?:(?:really|so|just|still|also|already)\s+)*"
            r"(?:feeling|struggling|depressed|anxious|lonely|exhausted|tired|sad|miserable|scared)\b",
            r"\bi\s+feel\s+(?:(?:so|really|very|pretty|kind\s+of)\s+)*(?:alone|lost|down|low|empty|hopeless|worthless"
            r"|numb|depressed|anxious|lonely|sad|stuck|tired|awful|terrible|bad|guilty|horrible)\b(?!\s+for\s+you)",
            r"\bi(?:'m|\s+am)\s+(?:(?:also|still|just)\s+)?going\s+through\b",
            # Where the writer is or what they are busy with ("I'm on the phone right now, I'm here to listen", a demo
            # suggestion): a present the supporter did not write of.
            r"\bi(?:'m|\s+am)\s+(?:(?:just|still|currently|now|actually)\s+)*(?:on\s+(?:the|my)\s+(?:phone|way|bus|train"
            r"|break|lunch)|at\s+(?:work|home|school|uni|college|the\s+(?:hospital|office|gym|doctor'?s?))|in\s+(?:bed|class"
            r"|a\s+meeting|the\s+(?:hospital|car|office))|busy|driving|off\s+work)\b",
            r"\bif\s+i\s+(?:told|said\s+to)\s+you\b",
            r"\bi\s+(?:(?:also|still)\s+)?(?:have|had|'ve\s+had|suffer\s+from|was\s+diagnosed\s+with)\s+(?:depression|anxiety"
            r"|ptsd|bipolar|adhd|ocd|insomnia|cancer|an?\s+(?:eating|anxiety|panic)\s+disorder)\b",
            r"\bi\s+need\s+(?:to\s+talk|someone|help|a\s+friend)\b",
            r"\b(?:been|be)\s+with\s+me\b",
            r"\bme\s+(?:too|as\s+well)\b",
            r"\bi\s+(?:(?:still|also|too|often)\s+)?(?:(?:feel|felt|am\s+feeling|'m\s+feeling)\s+(?:the\s+same|this"
            r"\s+way|that\s+way|like\s+i)|(?:have|had|get|got|'ve\s+had)\s+the\s+same)\b",
            r"\bi(?:'ve|\s+have)\s+been\s+(?:there|through)\b",
            r"\bi\s+went\s+through\b",
            r"\bhappen(?:ed|s)\s+to\s+me\b",
            r"\bmy\s+own\b",
            r"\bmy\s+(?:message|post|comment|reply|words|advice|question|answer)s?\b",
            r"\bwith\s+me\b",
            r"\b(?:similar\s+to|like|same\s+as)\s+me\b",
            r"\bi\s+need\s+you\b(?!\s+to\b)",
            r"\bhow\s+i(?:'ve|\s+have)\s+been\b",
            r"\b(?:how|what|why)\s+do\s+you\s+think\s+i(?:'m|\s+am|\s+was|\s+feel|\s+felt|\s+should)\b",
            # A past with the seeker the supporter never had ("I'm really sorry I didn't have time to help you"):
            # once stance is removed, what the writer did, could not do or tried is their story.
            r"\bi\s+(?:didn't|did\s+not|did\s+nothing|couldn't|could\s+not|never(?!\s+want)|forgot|tried)\b"
            r"(?!\s+(?:imagine|know)\b)",
            r"\bi(?:'ve|\s+have)\s+(?:been\s+(?:having|doing|in|wondering|dealing)|tried)\b",
            r"\bi\s+just\s+(?:got|had|feel|felt|found|lost|saw|went|came|started|finished)\b",
            r"\b(?:who|what)\s+i\s+(?:am|was|did|have|had)\b",
            r"\bi\s+(?:was|had)\b(?!\s+(?:no\s+idea|wondering|hoping)\b)",
            r"\b(?:like|as)\s+i\s+(?:did|do|have|had|was)\b",
            r"\bi(?:'m|\s+am)\s+not\s+doing\b",
            r"\bi(?:'m|\s+am)\s+the\s+one\b",
            # What the writer could or should have done for the seeker ("How could I have helped you in the past?",
            # "I should have been there for you"): a past together that the supporter never had.
            r"\bi\s+(?:could|should)(?:n't|\s+not)?\s+have\s+(?:\w+ly\s+)?(?:helped|done|been|said|called|listened"
            r"|noticed|reached|asked|told|known|seen|stopped|protected|checked|stayed|tried|visited|texted|messaged)\b",
            r"\b(?:could|should|might)\s+i\s+have\b",
            # A shared past the two never had ("Do you remember when we met?", "We used to talk every day").
            r"\bwe\s+(?:(?:already|once|last|first)\s+)?(?:used\s+to|met|talked|spoke|chatted|went)\b",
            r"\b(?:when|since|after|before|time)\s+we\s+(?:were|had|saw|did|used)\b",
        )
    ),
    re.IGNORECASE,
)

# The chat assistant's persona. Phrases a peer might use too ("I can't give medical advice", "How can I
# help you?", "I hope this helps") are left out: only what a help desk or a model says of itself is here.
# Of the 9,898 sentences of EPITOME's train and dev replies (people's own words) two match, both a responder who
# could not make out the post ("Not really sure what you're asking."): no empathic suggestion says that.
_MACHINE = (
    r"(?:ai|a\.i\.|artificial\s+intelligence|(?:large\s+)?language\s+model|(?:virtual\s+|digital\s+|ai\s+)?assistant"
    r"|chat\s?bot|bot|computer\s+program)"
)
ASSISTANT = re.compile(
    "|".join(
        (
            rf"\bas\s+an?\s+{_MACHINE}\b",
            rf"\bi(?:'m|\s+am)\s+(?:(?:just|only|merely)\s+)?(?:an?\s+)?{_MACHINE}\b(?!\s+(?:is|was|can|could))",
            r"\b(?:ai|language)\s+model\b",
            r"\bi\s+(?:don't|do\s+not|cannot|can't)\s+(?:have\s+)?(?:the\s+)?(?:capabilit\w*|access\s+to\s+(?:the\s+)?(?:internet|web))\b",
            r"\b(?:don't|do\s+not)\s+have\s+(?:the\s+)?abilit\w*\s+to\s+(?:browse|access|assist|provide|answer)\b",
            r"\bi(?:'m|\s+am)\s+(?:not\s+able|unable)\s+to\s+(?:assist|provide|browse|access|answer\s+(?:that|this|your))\b",
            r"\b(?:can't|cannot|can\s+not|unable\s+to)\s+assist\b",
            r"\b(?:help|assist)\w*\s+(?:you\s+)?with\s+(?:your|this|that)\s+(?:question|request|query|inquiry|enquiry)\b",
            r"\b(?:sorry|apologi[sz]e)\s+for\s+(?:any|the)\s+(?:confusion|misunderstanding|inconvenience)\b",
            r"\b(?:can|may)\s+i\s+assist\b",
            r"\banything\s+else\s+i\s+(?:can|could|may)\s+(?:help|assist)\b",
            r"\bi\s+(?:don't|do\s+not)\s+have\s+(?:personal\s+)?(?:feelings|emotions|a\s+body)\b",
            r"\b(?:my|the)\s+(?:training\s+data|knowledge\s+cut-?off)\b",
            # Refusing to talk or help: the assistant declining a request, never a peer's suggestion.
            r"\bi(?:'m|\s+am)\s+(?:not\s+able|unable)\s+to\s+(?:talk|chat|help|listen)\b",
            r"\bi\s+(?:can't|cannot|can\s+not)\s+(?:talk|chat|help)\s+(?:to\s+|with\s+)?you\b",
            # Failing to make out a query ("I have no idea what you're asking?", the shipped adapter ranked it first
            # for a post about losing a job). The supporter's own reply shows they read the post.
            r"\b(?:no\s+idea|not\s+(?:\w+\s+)?sure|(?:don't|do\s+not|dont)\s+(?:\w+\s+)?(?:know|understand|get))\s+what\s+"
            r"you(?:'re|\s+are)?\s+(?:(?:really|actually)\s+)?(?:asking|saying|talking\s+about|referring\s+to|mean)\b",
            r"\b(?:(?:don't|do\s+not|dont)\s+(?:\w+\s+)?(?:understand|get)|not\s+sure\s+i\s+(?:understand|follow))\s+"
            r"(?:your|the)\s+(?:question|request)\b",
        )
    ),
    re.IGNORECASE,
)


def tells_the_writers_story(sentence: str) -> bool:
    """True when the sentence is about the supporter rather than the seeker.

    >>> tells_the_writers_story("How do you feel about me?")
    True
    >>> tells_the_writers_story("I'm so sorry, that sounds exhausting for you.")
    False
    """
    text = sentence.replace("\u2019", "'")
    without_stance = STANCE.sub(" ", text)
    if ABOUT_THE_WRITER.search(without_stance):
        return True
    if PAST_CONTACT.search(text) or NOTICED_THE_WRITER.search(text) or WRITERS_WORK.search(text):
        return True
    first = [word.lower() for word in FIRST_PERSON.findall(without_stance)]
    if "me" in first:  # a "me" that is not an offer to listen makes the supporter the topic
        return True
    second = len(SECOND_PERSON.findall(text))
    return len(first) > second or (len(first) == second > 0 and not POSSESSIVES.isdisjoint(first))


def speaks_as_an_assistant(sentence: str) -> bool:
    """True when the sentence is the base model's help-desk persona rather than a person's words.

    >>> speaks_as_an_assistant("As an AI, I don't have feelings, but I'm here to listen.")
    True
    >>> speaks_as_an_assistant("Is there anything I can do to help you?")
    False
    """
    return bool(ASSISTANT.search(sentence.replace("\u2019", "'")))


def out_of_voice(sentence: str) -> bool:
    """True when the sentence is not the supporter speaking to the seeker: the supporter's own story made up
    for them, or the base model speaking as an assistant."""
    return tells_the_writers_story(sentence) or speaks_as_an_assistant(sentence)


def evaluate_voice_set() -> SafetyFigures:
    """Precision and recall of the check on the labelled set ('writer' and 'assistant' rows are out of voice)."""
    rows = read_labelled(SET_NAME)
    return detection_figures([(label in OUT_OF_VOICE, out_of_voice(text), text) for label, text in rows])

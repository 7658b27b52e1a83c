"""Support exchanges written for this project (not taken from any dataset): the demo, benchmarks
and smoke tests use them, because EPITOME's licence keeps its rows out of the product."""

from __future__ import annotations

# (seeker post, response) pairs of typical length: a short post asking for support and a reply.
SAMPLE_EXCHANGES: list[tuple[str, str]] = [
    (
        "I lost my job today after six years there. I keep thinking I'm just not good enough for anything.",
        "That happens to a lot of people. Update your CV this weekend and start applying again.",
    ),
    (
        "My dog died last night. He was with me through my whole divorce and now the house is so quiet.",
        "I'm so sorry. Losing him after everything you went through together must hurt so much.",
    ),
    (
        "I haven't left my room in three days. Everyone at uni seems to be doing fine except me.",
        "Just go outside, fresh air helps.",
    ),
    (
        "My mum keeps telling me I'm a disappointment. I'm 24 and still live at home because rent is impossible.",
        "Rent is crazy everywhere right now. You should look for a flatshare.",
    ),
    (
        "I've been having panic attacks before every shift at work. My chest gets tight and I can't breathe.",
        "That sounds really frightening. What usually happens right before one starts?",
    ),
    (
        "My best friend stopped replying to my messages and I don't know what I did wrong.",
        "Maybe she's just busy.",
    ),
    (
        "I relapsed after eight months sober. I feel like I threw all that progress away.",
        "Eight months is a lot of work and it doesn't disappear. I relapsed once too and I remember that "
        "feeling of having wasted everything. How are you doing today?",
    ),
    (
        "I can't stop comparing myself to my brother. He has the job, the house, the family, and I have nothing.",
        "Comparison is the thief of joy.",
    ),
    (
        "My partner and I fight every night now. I dread going home after work.",
        "Have you tried couples counselling? It worked for my parents.",
    ),
    (
        "I moved to a new city for work and I don't know a single person here. Weekends are the worst.",
        "Moving somewhere new is so isolating at first. I felt the same for months. What did you enjoy "
        "doing back home?",
    ),
    (
        "I failed my driving test for the third time. Everyone else passes first try.",
        "Lots of people fail a few times. Book another one.",
    ),
    (
        "My grandmother has dementia and today she didn't recognise me. I had to leave so she wouldn't see me cry.",
        "ok",
    ),
    (
        "I've been so tired lately that I can't enjoy anything, even the games I used to love.",
        "You should see a doctor, could be anaemia.",
    ),
    (
        "My exams start next week and I haven't studied at all. I just freeze every time I open the books.",
        "Freezing like that sounds so stressful, especially with the exams this close. Which subject feels "
        "heaviest right now?",
    ),
    (
        "I got ghosted after three great dates. I really thought this one was different.",
        "Dating apps are like that.",
    ),
    (
        "Christmas is coming and I'll be alone again this year. I pretend it doesn't bother me but it does.",
        "Lots of people spend it alone.",
    ),
]

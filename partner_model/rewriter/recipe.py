"""The rewriter's two-hour training recipe, in one place for the training code and the CLI's defaults
(this module imports nothing, so the CLI can show them without loading torch).

Measured on a 2-core CPU (session 13): warm start 22 min, RL 82 min, 104 min in all with loading.
"""

WARMSTART_EXAMPLES = 1400  # sampled from the built warm-start examples
# 2,000 (session 21: 16.9 min) gave the best voice-clean warm start on dev, 0.938 against 0.838 for 1,400; RL
# from it (600 steps at 5e-5) reached 1.475, adding the least of any run (rewriter model card).
# Share of the exploring questions led instead by another responder's sympathy, a compound target
# (warmstart_data.py; train rewriter --compound-share). Off in the recipe above, which was measured without it.
WARMSTART_COMPOUND_SHARE = 0.0
RL_STEPS = 280
# Twice the shipped adapter's 5e-5, which took 570 steps: the samples' empathy reached 1.28 by step 280
# here, 1.0 after 420 steps at 5e-5.
RL_LEARNING_RATE = 1e-4
# Reward lost per nat of log(policy / warm start) of a sampled sentence (train rewriter --kl). Off in the
# recipe above, which was measured without it. At 0.1 it only delayed a collapse at lr 2e-4 (session 15:
# 64 of 80 dev suggestions "Do you have a/any job?"); the weight that holds one is still to be measured.
RL_KL_COEF = 0.0
# Reward lost per unit of cosine similarity (sentence embeddings) above RL_REPEAT_FLOOR with a sentence
# recently sampled for another post (train rewriter --repeat, --repeat-floor): a stock sentence that fits
# every post pays wherever it goes. Off in the recipe above, which was measured without it; the runs with it
# (sessions 16-17) are in the rewriter's model card. In the warm start's samples the similarity has median
# 0.39 and 90th percentile 0.53, so a floor near 0.5 charges only near-copies.
RL_REPEAT_COEF = 0.0
RL_REPEAT_FLOOR = 0.0
# Reward lost per unit of the share above RL_OPENING_FLOOR of the sentences recently sampled for other posts
# that open with the same RL_OPENING_WORDS words (train rewriter --opening, --opening-floor): a stock form
# ("Do you have ...?") pays wherever it goes, in whatever words. Off in the recipe above, which was measured
# without it. At 5 above 0.2 (session 20, lr 2e-4) the policy varied the third word: "Did you ..." opened 714
# of 800 samples.
RL_OPENING_COEF = 0.0
RL_OPENING_FLOOR = 0.2
RL_OPENING_WORDS = 3
# Share of the RL groups whose last sample opens with a reaction of sympathy from train.csv, the policy writing
# the rest (train rewriter --guide-share; rl.py). Off in the recipe above, which was measured without it.
RL_GUIDE_SHARE = 0.0

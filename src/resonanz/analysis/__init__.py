"""The analysis pipeline: stages (language, sentiment, intent, risk, entities) that annotate
batches of mentions, a runner that orders them and stores each result with its stage version,
and the trained models the stages load."""

"""Reading the event database back: checks, metrics, summaries, the `inspect` command, the
step-through, and their terminal rendering. Nothing here writes a run's tables."""

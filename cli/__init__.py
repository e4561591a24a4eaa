"""Command-line client for Tally's local stack; run `python -m cli --help` (usage in cli/__main__.py)."""

"""Use cases: what a voter or an operator can do, written against small ports."""

"""Pure rules of Tally: no I/O, no clock of their own, no AWS."""

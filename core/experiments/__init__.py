"""Experiments: every training kept as a run in an SQLite file beside the project (``runs``: the store;
``record``: the recorder a training hands its callback; ``diff``: what differs between two runs)."""

"""Fuzzing every reader: a seeded mutator, per-reader targets and a capped campaign runner."""

"""Minimised fuzz findings, rebuilt from synthetic inputs, kept as regression tests."""

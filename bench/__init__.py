"""Knewit's own load generator and benchmark runner (see bench/run.py and bench/RESULTS.md)."""

"""Pseudonymous slices: generalised, k-anonymous rows of consented fields, keyed by per-release pseudonyms."""

"""Consent engine: catalog, records, the decision point and receipts. Knows nothing of HTTP or encryption."""

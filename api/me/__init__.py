"""The consumer's own routes under /v1/me."""

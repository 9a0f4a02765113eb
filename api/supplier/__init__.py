"""The supplier's own routes under /v1/supplier."""

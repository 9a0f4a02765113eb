"""Suppliers: the companies that reach customers through the broker, and their status."""

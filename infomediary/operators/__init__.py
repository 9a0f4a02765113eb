"""Operator accounts: people who sign in to the supplier console or the auditor view."""

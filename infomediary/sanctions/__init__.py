"""Auditors' findings and sanctions against suppliers, each recorded in the policy log."""

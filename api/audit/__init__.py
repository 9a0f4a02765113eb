"""The auditor's routes under /v1/audit, and the published policy-log key."""

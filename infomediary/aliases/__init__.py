"""Relay addresses: each customer's one mail address per supplier, under the operator's relay domain."""

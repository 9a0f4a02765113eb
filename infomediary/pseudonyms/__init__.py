"""Pairwise pseudonyms: how each supplier knows a customer (`service`), and the ones handed out (`models`)."""

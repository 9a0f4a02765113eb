"""Offers: content a supplier sends, matched by the broker to consenting customers."""

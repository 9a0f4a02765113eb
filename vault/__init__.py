"""The customer vault: key providers, envelope encryption and crypto-shredding.

Knows nothing of consent or HTTP.
"""

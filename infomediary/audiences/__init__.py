"""Audiences: the consent-gated index of generalised attributes and differentially private counts over it."""

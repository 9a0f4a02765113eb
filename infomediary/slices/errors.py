"""Errors of the slices domain."""

from __future__ import annotations

from infomediary.errors import DomainError


class FieldNotSliceable(DomainError):
    # A payload error: the field list names something no slice may carry (identity, free text).
    status = 422
    slug = "field-not-sliceable"
    title = "A requested field cannot be part of a slice"


class SliceTooLarge(DomainError):
    status = 413
    slug = "slice-too-large"
    title = "The slice exceeds the largest size computed in one request"

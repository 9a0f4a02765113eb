"""Exceptions raised by the policy log core.

They subclass ValueError so callers that only care about "bad input" can catch
one thing, while the app can still map each kind to its own HTTP status.
"""

from __future__ import annotations

# A leaf module with no imports of its own: the Merkle core stays free of the app's machinery.
from infomediary.errors import DomainError, ServiceUnavailable

__all__ = [
    "BadLogRange",
    "CheckpointError",
    "EntryError",
    "NoTreeHead",
    "PolicyLogError",
    "PolicyLogNotWhole",
    "ProofError",
]


class PolicyLogError(ValueError):
    """Base class for every error raised by ``infomediary.policylog``."""


class ProofError(PolicyLogError):
    """An inclusion or consistency proof does not verify (or is malformed)."""


class CheckpointError(PolicyLogError):
    """A checkpoint or signed note is malformed, unsigned, or wrongly signed."""


class EntryError(PolicyLogError):
    """A log entry is not representable as (or is not) canonical JSON."""


# Refusals of the policy-log service, rendered as problem+json by the api layer.


class BadLogRange(DomainError):
    status = 400
    slug = "bad-log-range"
    title = "The requested range or tree size is not in the log"


class NoTreeHead(DomainError):
    status = 404
    slug = "no-tree-head"
    title = "No tree head has been signed yet"


class PolicyLogNotWhole(ServiceUnavailable):
    """The stored size, entries and perfect nodes disagree (see `integrity`): not ready to serve the log."""

    slug = "policy-log-not-whole"
    title = "The policy log is not whole"

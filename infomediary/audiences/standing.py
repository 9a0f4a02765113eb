"""What a supplier is told of its epsilon budget on every answer that may spend it: what is left, and when
the period resets.

Sent as response headers on every answer of a route that may spend the budget (the 429 refusing a spend
included), so a client paces itself instead of finding the limit by reaching it. The names and formats are
part of the API and declared in its OpenAPI (`api.epsilon`): `Epsilon-Remaining` is a decimal with exactly
three places (the ledger counts milli-epsilon, so it is exact), `Epsilon-Resets-At` an RFC 3339 UTC time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from infomediary.audiences.noise import MILLI

REMAINING_HEADER: Final = "Epsilon-Remaining"
RESETS_AT_HEADER: Final = "Epsilon-Resets-At"


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Standing:
    """The supplier's budget for the current period as it stands."""

    remaining_milli: int
    resets_at: datetime

    @property
    def remaining(self) -> float:
        return self.remaining_milli / MILLI

    def headers(self) -> dict[str, str]:
        whole, milli = divmod(max(0, self.remaining_milli), MILLI)
        return {REMAINING_HEADER: f"{whole}.{milli:03d}", RESETS_AT_HEADER: rfc3339(self.resets_at)}

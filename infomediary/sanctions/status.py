"""The supplier status machine: active → warned → throttled → suspended, driven by strikes.

Thresholds (settings, all-time strike counts; strikes never expire):

- warned at `sanctions_warned_at_strikes` (default 1): shown on the dashboard; customers' "only suppliers
  without strikes" terms already bite from the first strike.
- throttled at `sanctions_throttled_at_strikes` (default 3): the epsilon budget per period is cut to
  `throttled_epsilon_fraction` (default 0.5), so fewer fresh audience counts (`audiences.budget`).
- suspended at `sanctions_suspended_at_strikes` (default 5): every token is refused at once
  (`Principal.require` reads the status on each request) and no new token is issued.

An auditor's `warning` makes the supplier at least warned, a `suspension` suspends at once. Strikes only
move the status up (`raise_to`): coming back down is an operator's decision (`infomediary suppliers resume`,
through `set_status`), which also means a resumed supplier is suspended again by its next strike once it is
past the threshold.
"""

from __future__ import annotations

from infomediary.database import WriteSession
from infomediary.policylog import kinds as log_kinds
from infomediary.policylog.service import append as log_append
from infomediary.sanctions import repository
from infomediary.settings import Settings
from infomediary.suppliers import service as suppliers
from infomediary.suppliers.models import Supplier, SupplierStatus

_ORDER = (SupplierStatus.ACTIVE, SupplierStatus.WARNED, SupplierStatus.THROTTLED, SupplierStatus.SUSPENDED)


def status_for(strikes: int, settings: Settings) -> SupplierStatus:
    """The status that `strikes` strikes earn on their own."""
    if strikes >= settings.sanctions_suspended_at_strikes:
        return SupplierStatus.SUSPENDED
    if strikes >= settings.sanctions_throttled_at_strikes:
        return SupplierStatus.THROTTLED
    if strikes >= settings.sanctions_warned_at_strikes:
        return SupplierStatus.WARNED
    return SupplierStatus.ACTIVE


def set_status(
    session: WriteSession, name_or_id: str, status: SupplierStatus, *, reason: str | None = None
) -> suppliers.SupplierView:
    """Set the status, up or down (an operator's suspend and resume); logs `supplier.status_changed`."""
    supplier = suppliers.find(session, name_or_id)
    supplier.status = status.value
    session.flush()
    log_append(
        session,
        {
            "kind": log_kinds.SUPPLIER_STATUS_CHANGED,
            "supplier_id": supplier.id,
            "reason": reason,
            "details": {"status": status.value},
        },
    )
    return suppliers.view(supplier)


def raise_to(
    session: WriteSession, supplier: Supplier, target: SupplierStatus, reason: str
) -> SupplierStatus:
    """Move the supplier up to `target` (never down), logging `supplier.status_changed` if it moves."""
    current = SupplierStatus(supplier.status)
    if _ORDER.index(target) <= _ORDER.index(current):
        return current
    set_status(session, supplier.id, target, reason=reason)
    return target


def reevaluate(session: WriteSession, supplier: Supplier, settings: Settings) -> SupplierStatus:
    """Re-derive the status from the strike count, in the caller's transaction, after a strike."""
    strikes = repository.strike_count(session, supplier.id)
    return raise_to(session, supplier, status_for(strikes, settings), f"{strikes} strike(s) recorded")

"""What each supplier may do now: per supplier, whatever its status, the grid of purposes x data categories
with the effective answer and its reason, and the one-click switch of one cell.

A one-click yes is the customer's earlier yes given again: it keeps the price and the expiry she last set
on that very scope (`Carried`), so that clicking "Allow" after a "no" does not make her data free and open-
ended behind her back.

Every cell is the decision point's own answer (`decision_point.evaluate_grid`, the `decide()` every release
goes through), never a second copy of the rules: what the grid says is what a supplier asking for that
purpose and that kind of data gets now. Nothing is logged: it is the customer's own preview, like `evaluate`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy.orm import Session

from consent.decision import Reason
from consent.records import DENY_STATES, ConsentState
from consent.vocabulary import Category, Purpose, ReleaseKind, is_sale_or_transfer, is_sensitive
from infomediary.consents import policies, repository, service
from infomediary.consents.context import customer_context
from infomediary.consents.decision_point import evaluate_grid
from infomediary.consents.models import ConsentRecordRow
from infomediary.consents.service import OnLeaving
from infomediary.database import WriteSession, utcnow
from infomediary.policylog.wording import REASONS
from infomediary.runtime import Runtime
from infomediary.suppliers import service as suppliers
from infomediary.suppliers.service import SupplierView

# The grid answers for data used as such: counted, shared under a nickname, matched to an offer. Those are
# decided alike; only a release of identity differs (always opt-in, a yes to that supplier's own offer or
# request, given in the inbox), so a slice stands for them all.
GRID_RELEASE_KIND: Final = ReleaseKind.PSEUDONYMOUS_SLICE

# Denials a yes to the supplier cannot lift, because a rule above consent decides: the customer's own
# restriction and standing terms (changed on their own pages) and what the supplier's policy leaves out.
_ABOVE_CONSENT: Final = frozenset(
    {
        Reason.PROCESSING_RESTRICTED,
        Reason.NEVER_PURPOSE,
        Reason.SUPPLIER_HAS_STRIKES,
        Reason.NEVER_CATEGORY,
        Reason.UNDECLARED_PURPOSE,
        Reason.UNDECLARED_CATEGORY,
    }
)


class Switch(enum.StrEnum):
    """What one click on a cell does."""

    ALLOW = "allow"
    REFUSE = "refuse"


@dataclass(frozen=True)
class Carried:
    """The terms a one-click yes keeps: those she last set on that exact (supplier, purpose, category).

    The scope's record holds them: a yes or a no she answers sets them, and nothing else changes them (a
    withdrawal, a lapse or a wider policy keeps what the record had), so they are those of her latest
    answer. An expiry already past is dropped: it would make the yes lapse at once.
    """

    price: int | None = None
    until: datetime | None = None

    @classmethod
    def of(cls, row: ConsentRecordRow | None, now: datetime) -> Carried:
        if row is None:
            return cls()
        until = row.expires_at if row.expires_at is not None and row.expires_at > now else None
        return cls(price=row.price, until=until)

    def __bool__(self) -> bool:
        return self.price is not None or self.until is not None


@dataclass(frozen=True)
class Cell:
    """The decision for one (purpose, category) of one supplier; `asked_price` is the customer's price,
    `carried` the terms an "Allow" on it would keep."""

    purpose: Purpose
    category: Category
    permitted: bool
    reason: Reason
    asked_price: int
    record_ids: tuple[str, ...]
    term_ids: tuple[str, ...]
    carried: Carried = Carried()

    @property
    def switch(self) -> Switch | None:
        """The click that turns the answer round; None where a rule above consent decides."""
        if self.reason in _ABOVE_CONSENT:
            return None
        # Below her price the use is still open to a supplier that pays it: a "no" is what closes it.
        if self.permitted or self.reason is Reason.PRICE_TOO_LOW:
            return Switch.REFUSE
        return Switch.ALLOW


@dataclass(frozen=True)
class SupplierGrid:
    """One supplier's grid: every purpose x every category; `purposes` and `categories` are those its policy
    in force declares (vocabulary order; empty without a policy), where its answers can differ at all."""

    supplier: SupplierView
    policy_version: int | None
    purposes: tuple[Purpose, ...]
    categories: tuple[Category, ...]
    cells: Mapping[tuple[Purpose, Category], Cell]

    def cell(self, purpose: Purpose, category: Category) -> Cell:
        return self.cells[(purpose, category)]


@dataclass(frozen=True)
class EffectiveConsents:
    """One page of suppliers with their grids, and what applies to every supplier alike."""

    suppliers: list[SupplierGrid]
    next_cursor: str | None
    restricted: bool
    gpc_since: datetime | None
    release_kind: ReleaseKind
    at: datetime


def effective_consents(
    session: Session, customer_id: str, *, cursor: str | None, limit: int, now: datetime | None = None
) -> EffectiveConsents:
    """One page of every supplier (by name, whatever its status) with what each may do now."""
    now = now or utcnow()
    page, next_cursor = suppliers.list_page(session, cursor=cursor, limit=limit)
    ids = [s.id for s in page]
    decisions = evaluate_grid(
        session, customer_id, ids, Purpose, Category, release_kind=GRID_RELEASE_KIND, now=now
    )
    current = policies.current_views(session, set(ids))
    scoped = repository.named_scope_rows(session, customer_id, ids)
    grids = []
    for supplier in page:
        cells: dict[tuple[Purpose, Category], Cell] = {}
        for purpose in Purpose:
            for outcome in decisions[(supplier.id, purpose)].outcomes:
                cells[(purpose, outcome.category)] = Cell(
                    purpose=purpose,
                    category=outcome.category,
                    permitted=outcome.permitted,
                    reason=outcome.reason,
                    asked_price=outcome.asked_price,
                    record_ids=outcome.record_ids,
                    term_ids=outcome.term_ids,
                    carried=Carried.of(scoped.get((supplier.id, purpose, outcome.category)), now),
                )
        policy = current.get(supplier.id)
        grids.append(
            SupplierGrid(
                supplier=supplier,
                policy_version=None if policy is None else policy.version,
                purposes=() if policy is None else tuple(policy.purposes),
                categories=() if policy is None else tuple(policy.categories),
                cells=cells,
            )
        )
    context = customer_context(session, customer_id, now)
    return EffectiveConsents(
        suppliers=grids,
        next_cursor=next_cursor,
        restricted=context.restricted,
        gpc_since=context.gpc_recorded_at if context.gpc else None,
        release_kind=GRID_RELEASE_KIND,
        at=now,
    )


def explain(cell: Cell) -> str:
    """The cell's reason in plain words: the sentences of "who used my data", made specific where the reason
    code alone does not say enough (which price, what makes the use opt-in)."""
    if cell.reason is Reason.PRICE_TOO_LOW:
        return f"Only if it pays you at least {cell.asked_price} credits, the price you set."
    if cell.reason is Reason.OPT_IN_REQUIRED:
        needs = []
        if is_sensitive(cell.category):
            needs.append("sensitive data")
        if is_sale_or_transfer(cell.purpose):
            needs.append("selling or passing on data")
        if needs:
            return f"{' and '.join(needs).capitalize()}: only with your yes."
    return reason_text(cell.reason)


def allow_text(cell: Cell) -> str | None:
    """What an "Allow" on the cell keeps of her earlier answer, in plain words; None if nothing."""
    if cell.switch is not Switch.ALLOW or not cell.carried:
        return None
    parts = []
    if cell.carried.price is not None:
        parts.append(f"at your price of {cell.carried.price} credits")
    if cell.carried.until is not None:
        parts.append(f"until {cell.carried.until:%d %B %Y %H:%M} UTC")
    return f"Allowing keeps your earlier terms: {' and '.join(parts)}."


def reason_text(reason: Reason) -> str:
    """The reason as a sentence, in the words "who used my data" uses for it."""
    text = REASONS[reason.value]
    return f"{text[:1].upper()}{text[1:]}."


@dataclass(frozen=True)
class Switched:
    """The outcome of a click: `changed` is False when that "no" was already recorded (a second click)."""

    changed: bool
    receipt_id: str | None


def switch(
    session: WriteSession,
    runtime: Runtime,
    customer_id: str,
    *,
    supplier_id: str,
    purpose: Purpose,
    category: Category,
    to: Switch,
    on_leaving: OnLeaving,
    now: datetime | None = None,
) -> Switched:
    """Turn one cell round, recorded as the consent form records an answer (record, event, receipt, log).

    Both answers name this supplier and this kind of data, the most specific scope there is, so they decide
    the cell over any answer given to every supplier or for all data (unless a rule above consent decides,
    and then the page offers no switch). A "no" to a yes in force withdraws that yes; a refusal could not
    replace it (the state machine: a grant is withdrawn, never refused). A yes keeps the price and the
    expiry (if still ahead) she last set on the scope (`Carried`).
    """
    now = now or utcnow()
    row = repository.find_scope(session, customer_id, supplier_id, purpose, category)
    if to is Switch.REFUSE and row is not None:
        policy = service.floors(session, {supplier_id}).get(supplier_id)
        state = service.state_now(repository.to_record(row), now, policy)
        if state is ConsentState.GIVEN:
            change = service.withdraw(session, runtime, customer_id, row.id, now=now, on_leaving=on_leaving)
            return Switched(True, change.receipt_id)
        if state in DENY_STATES:
            return Switched(False, None)
    # A "no" carries no terms of its own: the answer's are cleared, as a refusal on the consent form does.
    carried = Carried.of(row, now) if to is Switch.ALLOW else Carried()
    [change] = service.answer(
        session,
        runtime,
        customer_id,
        state=ConsentState.GIVEN if to is Switch.ALLOW else ConsentState.REFUSED,
        supplier_id=supplier_id,
        purpose=purpose,
        categories=[category],
        expires_at=carried.until,
        price=carried.price,
        now=now,
        on_leaving=on_leaving,
    )
    return Switched(True, change.receipt_id)

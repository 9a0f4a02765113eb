"""The sections of the export document, each as the document holds it.

A section that grows with use (history, activity, consents, what each supplier was permitted, postings,
offers, requests, log entries) is a `Section`: read in keyset pages of `PAGE` rows, each page rendered and
written before the next is read.
A small, bounded one (the account, standing terms, the privacy-loss figures) is read whole.

What may appear: the customer's own rows, read by her internal subject id and never showing it; suppliers by
id and name; the broker's own identifiers (record, receipt, offer, request, transaction ids, leaf indexes);
and in the log, entries naming her by her log pseudonym only. Nothing here reads another customer's row.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from consent.records import ALL_CATEGORIES, ConsentRecord
from infomediary.audiences import accounting
from infomediary.audiences.noise import MILLI
from infomediary.consents import repository as consent_rows
from infomediary.consents import service as consents
from infomediary.consents import terms
from infomediary.consents.models import ConsentEventRow, SupplierRequestRow
from infomediary.consents.supplier_requests import EXPIRED, PENDING
from infomediary.ledger import repository as ledger
from infomediary.ledger.models import OwnerKind
from infomediary.ledger.statement import Line, statement
from infomediary.offers import received
from infomediary.policylog import customer_view, treehead
from infomediary.policylog.customer_view import LogLine, Permitted
from infomediary.policylog.treehead import SignedTreeHead
from infomediary.portability import repository
from infomediary.profiles import insights
from infomediary.profiles import repository as vault_rows
from infomediary.profiles import service as profiles
from infomediary.profiles.activity import open_record
from infomediary.profiles.datakeys import CustomerCipher
from infomediary.pseudonyms import service as pseudonyms
from infomediary.runtime import Runtime
from infomediary.settings import Settings
from infomediary.vouchers import service as voucher_service
from infomediary.vouchers.service import VoucherView

PAGE = 500
"""Rows per page of every large section: what bounds the export's memory, however much a customer has."""

R = TypeVar("R")


@dataclass(frozen=True)
class Section(Generic[R]):
    """A large section. `read(session, cursor)` answers one page of rows and the cursor after it (None: it
    was the last), starting from None; `render` makes one row the document's object, on the CPU pool when
    `offload` (a page of decryptions)."""

    read: Callable[[Session, Any], tuple[Sequence[R], Any]]
    render: Callable[[R], dict[str, Any]]
    offload: bool = False


def _as_is(row: dict[str, Any]) -> dict[str, Any]:
    return row


def _supplier(supplier_id: str, name: str | None) -> dict[str, str]:
    return {"id": supplier_id, "name": name if name is not None else supplier_id}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# The vault: profile, derived figures, history, activity.


def profile(session: Session, runtime: Runtime, customer_id: str) -> list[dict[str, Any]]:
    """The fields she has set (an unset one holds nothing about her)."""
    return [asdict(v) for v in profiles.read_profile(session, runtime, customer_id) if v.value is not None]


def _source(source: insights.Source) -> dict[str, Any]:
    # Named as `/v1/me/insights` names them.
    return {"kind": source.kind, "count": source.count, "from": source.first, "to": source.last}


def _money(figures: Iterable[insights.MoneyFigure]) -> list[dict[str, Any]]:
    return [{"currency": f.currency, "amount": f.amount, "source": _source(f.source)} for f in figures]


def derived(session: Session, runtime: Runtime, customer_id: str) -> dict[str, Any]:
    found = insights.derive(session, runtime, customer_id)
    return {
        "recency_days": found.recency_days,
        "recency_source": _source(found.recency_source),
        "frequency": found.frequency,
        "frequency_source": _source(found.frequency_source),
        "monetary": _money(found.monetary),
        "average_order_value": _money(found.average_order_value),
        "lifetime_value": _money(found.lifetime_value),
        "lifetime_value_method": found.lifetime_value_method,
        "window_days": found.window_days,
    }


def _next_after(rows: Sequence[Any], cursor: Callable[[Any], Any]) -> Any:
    # A short page is the last one; a full one may be followed by an empty one.
    return cursor(rows[-1]) if len(rows) == PAGE else None


def history(customer_id: str, cipher: CustomerCipher) -> Section[Any]:
    def read(session: Session, after: int | None) -> tuple[Sequence[Any], int | None]:
        rows = vault_rows.changes_page(session, customer_id, after or 0, PAGE)
        return rows, _next_after(rows, lambda row: row.id)

    return Section(read, lambda row: asdict(profiles.open_change(cipher, row)), offload=True)


def activity(customer_id: str, cipher: CustomerCipher) -> Section[Any]:
    def read(session: Session, after: int | None) -> tuple[Sequence[Any], int | None]:
        rows = vault_rows.activity_page(session, customer_id, after or 0, PAGE)
        return rows, _next_after(rows, lambda row: row.id)

    return Section(read, lambda row: asdict(open_record(cipher, row)), offload=True)


# Consents, their events and receipts; standing terms; the privacy signal.


def consent_records(customer_id: str, now: datetime) -> Section[dict[str, Any]]:
    """The customer's consent records, each without its "events": the last key of a record, which the
    stream writes after it from `consent_events`, a page at a time however many there are."""

    def read(session: Session, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        records, next_cursor = consents.list_records(session, customer_id, cursor=cursor, limit=PAGE)
        return _consents(session, records, now), next_cursor

    return Section(read, _as_is)


def _consents(session: Session, records: Sequence[ConsentRecord], now: datetime) -> list[dict[str, Any]]:
    named = {r.supplier for r in records if isinstance(r.supplier, str)}
    names = consents.supplier_names(session, named)
    policies = consents.floors(session, named)
    out = []
    for r in records:
        supplier = r.supplier if isinstance(r.supplier, str) else None
        # The state in force now, expiry and invalidation applied: what `/v1/me/consents` shows.
        state = consents.state_now(r, now, policies.get(supplier) if supplier else None)
        out.append(
            {
                "id": r.record_id,
                "supplier": _supplier(supplier, names.get(supplier)) if supplier else None,
                "purpose": r.purpose.value,
                "category": None if r.category is ALL_CATEGORIES else r.category.value,
                "state": state.value,
                "expires_at": r.expires_at,
                "price": r.price,
                "policy_version": r.policy_version,
                "created_at": r.created_at,
                "updated_at": r.updated_at,
            }
        )
    return out


def consent_events(customer_id: str, record_ids: Sequence[str]) -> Section[ConsentEventRow]:
    """The events of these records (one page of `consent_records`), record by record in id order, each
    record's oldest first: what the stream nests in each record, in pages that may end inside a record."""

    def read(session: Session, after: tuple[str, int] | None) -> tuple[Sequence[ConsentEventRow], Any]:
        rows = repository.consent_events_page(session, customer_id, record_ids, after=after, limit=PAGE)
        return rows, _next_after(rows, lambda row: (row.record_id, row.id))

    return Section(read, _event)


def _event(e: ConsentEventRow) -> dict[str, Any]:
    return {
        "from_state": e.from_state,
        "to_state": e.to_state,
        "at": e.at,
        "actor": e.actor,
        "reason": e.reason,
        "receipt_id": e.receipt_id,
        "receipt": e.receipt,
    }


def standing_terms(session: Session, customer_id: str) -> list[dict[str, Any]]:
    return [
        {
            "id": t.id,
            "kind": t.kind,
            "category": None if t.category is None else t.category.value,
            "purpose": None if t.purpose is None else t.purpose.value,
            "credits": t.credits,
            "created_at": t.created_at,
        }
        for t in terms.list_terms(session, customer_id)
    ]


def privacy_signal(session: Session, customer_id: str) -> dict[str, Any]:
    row = consent_rows.privacy_signal(session, customer_id)
    return {"gpc": bool(row and row.gpc), "recorded_at": row.recorded_at if row else None}


# Pseudonyms and what each supplier was allowed to take.


@dataclass(frozen=True)
class Holder:
    """A supplier that knows her: by her stable pseudonym if she handed it over, and by what it received."""

    supplier_id: str
    head: dict[str, Any]


def pseudonym_holders(session: Session, runtime: Runtime, customer_id: str) -> list[Holder]:
    """Every supplier she handed her stable pseudonym to, or that a logged decision allowed to use her data
    (a slice she was in goes under a release pseudonym, which is not kept: the decision is what remains)."""
    issued = {p.supplier_id: p for p in pseudonyms.issued_to_suppliers(session, runtime, customer_id)}
    permitted = set(customer_view.suppliers_permitted(session, runtime, customer_id))
    names = consents.supplier_names(session, permitted - set(issued))
    names.update({supplier_id: p.supplier_name for supplier_id, p in issued.items()})
    holders = []
    for supplier_id in sorted(set(issued) | permitted, key=lambda s: (names.get(s, s), s)):
        stable = issued.get(supplier_id)
        holders.append(
            Holder(
                supplier_id,
                {
                    "supplier": _supplier(supplier_id, names.get(supplier_id)),
                    "pseudonym": stable.pseudonym if stable else None,
                    "handed_over_at": stable.issued_at if stable else None,
                },
            )
        )
    return holders


def permitted(runtime: Runtime, customer_id: str, supplier_id: str) -> Section[Permitted]:
    def read(session: Session, after: int | None) -> tuple[Sequence[Permitted], int | None]:
        rows = customer_view.permitted_to(
            session, runtime, customer_id, supplier_id, after=-1 if after is None else after, limit=PAGE
        )
        return rows, _next_after(rows, lambda row: row.leaf_index)

    return Section(read, asdict)


# Rewards, offers, requests, privacy loss.


def balance(session: Session, customer_id: str) -> int:
    return ledger.balance_of(session, OwnerKind.CUSTOMER, customer_id)


def postings(customer_id: str) -> Section[Line]:
    def read(session: Session, cursor: str | None) -> tuple[Sequence[Line], str | None]:
        found = statement(session, OwnerKind.CUSTOMER, customer_id, cursor=cursor, limit=PAGE)
        return found.lines, found.next_cursor

    def render(line: Line) -> dict[str, Any]:
        # Customers on the other side of a transaction are only ever "customer" (`ledger.statement`).
        return {
            "id": str(line.id),
            "transaction_id": line.transaction_id,
            "kind": line.kind,
            "amount": line.amount,
            "created_at": line.created_at,
            "counterparties": line.counterparties,
        }

    return Section(read, render)


def vouchers(runtime: Runtime, customer_id: str, now: datetime) -> Section[VoucherView]:
    """Her vouchers as they stand (an expired one not yet refunded reads `expired`, `refunded_at` null)."""

    def read(session: Session, cursor: str | None) -> tuple[Sequence[VoucherView], str | None]:
        return voucher_service.page_of(session, runtime, customer_id, cursor=cursor, limit=PAGE, now=now)

    def render(view: VoucherView) -> dict[str, Any]:
        # No code: an export is a file she may keep or pass on, and a code in it is cash in it. The code of
        # an unspent voucher is on her vouchers page and in `GET /v1/me/vouchers`.
        return {
            "id": view.id,
            "supplier": _supplier(view.supplier_id, view.supplier_name),
            "value": view.value,
            "expires_at": view.expires_at,
            "state": view.state,
            "redeemed_at": view.redeemed_at,
            "refunded_at": view.refunded_at,
        }

    return Section(read, render)


def offers(customer_id: str) -> Section[received.Delivered]:
    def read(session: Session, after: int | None) -> tuple[Sequence[received.Delivered], int | None]:
        rows = received.delivered(session, customer_id, after=after or 0, limit=PAGE)
        return rows, _next_after(rows, lambda row: row.delivery_id)

    return Section(read, _offer)


def _offer(found: received.Delivered) -> dict[str, Any]:
    o = found.offer
    rule = None
    if o.min_order_amount is not None and o.currency is not None and o.discount_percent is not None:
        rule = {
            "min_order_amount": o.min_order_amount,
            "currency": o.currency,
            "discount_percent": o.discount_percent,
        }
    return {
        "id": o.id,
        "supplier": _supplier(o.supplier_id, o.supplier_name),
        "content": o.content,
        "purpose": o.purpose,
        "categories": found.categories,
        "reward_per_view": o.reward_per_view,
        "reward_per_acceptance": o.reward_per_acceptance,
        "releases_identity": o.releases_identity,
        "rule": rule,
        "expires_at": o.expires_at,
        "withdrawn_at": found.withdrawn_at,
        "state": o.state,
        "delivered_at": o.delivered_at,
        "viewed_at": o.viewed_at,
        "accepted_at": o.accepted_at,
        "answered_at": found.answered_at,
        "identity_released": found.identity_released,
    }


Request = tuple[SupplierRequestRow, str]


def requests(customer_id: str, now: datetime) -> Section[Request]:
    def read(session: Session, after: str | None) -> tuple[Sequence[Request], str | None]:
        rows = repository.requests_page(session, customer_id, after=after or "", limit=PAGE)
        return rows, _next_after(rows, lambda row: row[0].id)

    def render(found: Request) -> dict[str, Any]:
        row, name = found
        return {
            "id": row.id,
            "supplier": _supplier(row.supplier_id, name),
            "origin": row.origin,
            "purpose": row.purpose,
            "categories": list(row.categories),
            "release_kind": row.release_kind,
            "price_offered": row.price_offered,
            "policy_version": row.policy_version,
            "expires_at": row.expires_at,
            # A lapsed request reads as expired from its expiry on, as in the inbox.
            "status": EXPIRED if row.status == PENDING and row.expires_at <= now else row.status,
            "created_at": row.created_at,
            "answered_at": row.answered_at,
        }

    return Section(read, render)


def privacy_loss(session: Session, settings: Settings, customer_id: str, now: datetime) -> dict[str, Any]:
    """Her account this period, as `/v1/me/privacy-loss` shows it: earlier periods are not kept."""
    account = accounting.account_of(session, settings, customer_id, now)
    return {
        "period_start": account.period_start,
        "period_end": account.period_start + timedelta(seconds=settings.audience_budget_period_seconds),
        "epsilon_spent": account.spent_milli / MILLI,
        "cap": account.cap_milli / MILLI,
        "own_cap": account.own_cap,
        "default_cap": settings.privacy_loss_cap,
        "maximum_cap": settings.privacy_loss_cap_max,
        "epsilon_remaining": account.remaining_milli / MILLI,
        "cap_reached": account.reached,
        "by_supplier": [
            {
                "supplier": _supplier(s.supplier_id, s.supplier_name),
                "epsilon": s.spent_milli / MILLI,
                "releases": s.releases,
            }
            for s in account.by_supplier
        ],
    }


# The policy log.


def log_head(runtime: Runtime, head: SignedTreeHead | None) -> dict[str, Any]:
    """What verifies the entries: the log's origin and key, and the one signed head every proof is against."""
    return {
        "origin": runtime.settings.resolved_log_origin,
        "verifier_key": treehead.verifier_key(runtime),
        "tree_head": None
        if head is None
        else {
            "tree_size": head.tree_size,
            "sha256_root_hash": _b64(head.root_hash),
            "checkpoint": head.checkpoint,
        },
    }


def log_entries(runtime: Runtime, customer_id: str, head: SignedTreeHead | None) -> Section[LogLine]:
    def read(session: Session, after: int | None) -> tuple[Sequence[LogLine], int | None]:
        log = customer_view.customer_log_against(
            session, runtime, customer_id, head, after=-1 if after is None else after, limit=PAGE
        )
        return log.lines, log.next_cursor

    def render(line: LogLine) -> dict[str, Any]:
        return {
            "leaf_index": line.leaf_index,
            "at": line.at,
            "kind": line.kind,
            "text": line.text,
            "supplier_id": line.supplier_id,
            "decision": line.decision,
            "leaf_input": _b64(line.entry),
            "audit_path": None if line.audit_path is None else [_b64(p) for p in line.audit_path],
        }

    return Section(read, render)

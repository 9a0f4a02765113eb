"""She reported a relayed message as unwanted, through the link in its forward: it counts toward the
supplier's reports exactly like a reported offer (`offers.reports`), once per message, and is on her log.

The link needs no login (she may read her mail where she is not signed in): the token is the message's id
sealed by the relay (`relay.links`), so only someone who received the forward can report it. Opening the
link only shows the question; reporting is the form's POST, so a mail scanner fetching links reports nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from infomediary.database import WriteSession
from infomediary.offers import reports
from infomediary.policylog import kinds
from infomediary.policylog.service import append as log_append
from infomediary.policylog.service import log_pseudonym
from infomediary.relay import links
from infomediary.relay.models import RelayedMessageRow
from infomediary.runtime import Runtime
from infomediary.suppliers.models import Supplier


@dataclass(frozen=True)
class Reportable:
    message_id: str
    customer_id: str
    supplier_id: str
    supplier_name: str


def reportable(session: Session, runtime: Runtime, token: str) -> Reportable | None:
    """The message a report link names, or None for a link the relay did not make or a message gone."""
    message_id = links.reported_message(runtime.keys, token)
    if message_id is None:
        return None
    found = session.execute(
        select(RelayedMessageRow.customer_id, RelayedMessageRow.supplier_id, Supplier.name)
        .join(Supplier, Supplier.id == RelayedMessageRow.supplier_id)
        .where(RelayedMessageRow.id == message_id)
    ).one_or_none()
    if found is None:
        return None
    customer_id, supplier_id, name = found
    return Reportable(message_id, customer_id, supplier_id, name)


def report(session: WriteSession, runtime: Runtime, token: str) -> Reportable | None:
    """Report the message the link names; None if there is none. Reporting again changes nothing."""
    found = reportable(session, runtime, token)
    if found is None:
        return None
    counted = reports.report_relayed_message(
        session,
        runtime,
        customer_id=found.customer_id,
        supplier_id=found.supplier_id,
        message_id=found.message_id,
    )
    if counted:
        log_append(
            session,
            {
                "kind": kinds.RELAY_MESSAGE_REPORTED,
                "subject": log_pseudonym(runtime, found.customer_id),
                "supplier_id": found.supplier_id,
            },
        )
    return found

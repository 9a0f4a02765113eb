"""The customer's consent changed: what it no longer permits stops at once, outside the consent records too.

When consent records move to a state that permits less (refused, withdrawn, expired, invalidated),
`records_left` retires the cached audience answers that may have counted the customer and drops their
undelivered events that consent no longer permits, in the change's transaction, before its response
returns. The consent services call it at the moment of the change (their `on_leaving`); the functions
below are the customer's own changes, as the API, the pages and the recommendation switch make them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from consent.records import ConsentState
from consent.vocabulary import Category, Purpose
from infomediary.aliases import service as aliases
from infomediary.audiences import index as audience_index
from infomediary.consents import effective, gpc, terms
from infomediary.consents import service as consents
from infomediary.database import WriteSession, utcnow
from infomediary.recommendations import personalisation
from infomediary.runtime import Runtime
from infomediary.webhooks import outbox

# Her own yes to these purposes for her contact data lets a supplier write to her: through a relay address.
CONTACT_PURPOSES = frozenset({Purpose.DIRECT_MARKETING, Purpose.SERVICE_MESSAGES})


def _opens_contact(purpose: Purpose, categories: Sequence[Category | None]) -> bool:
    return purpose in CONTACT_PURPOSES and any(c is None or c is Category.CONTACT for c in categories)


def records_left(session: WriteSession, customer_ids: Sequence[str]) -> None:
    """Consent of these customers now permits less (`consents.service.OnLeaving`)."""
    audience_index.population_changed(session)
    for customer_id in sorted(customer_ids):
        outbox.drop_withdrawn(session, customer_id)


def answer(
    session: WriteSession,
    runtime: Runtime,
    customer_id: str,
    *,
    state: ConsentState,
    supplier_id: str | None,
    purpose: Purpose,
    categories: Sequence[Category | None],
    expires_at: datetime | None = None,
    price: int | None = None,
) -> list[consents.Change]:
    """Grant (`given`) or refuse (`refused`) scopes, one receipt for all; `None` means "all".

    A grant to one supplier of direct marketing or service messages for her contact data gives that
    supplier her relay address (`aliases`), if it has none yet."""
    changes = consents.answer(
        session,
        runtime,
        customer_id,
        state=state,
        supplier_id=supplier_id,
        purpose=purpose,
        categories=categories,
        expires_at=expires_at,
        price=price,
        on_leaving=records_left,
    )
    if state is ConsentState.GIVEN and supplier_id is not None and _opens_contact(purpose, categories):
        aliases.ensure(session, runtime, customer_id, supplier_id)
    return changes


def withdraw(session: WriteSession, runtime: Runtime, customer_id: str, record_id: str) -> consents.Change:
    return consents.withdraw(session, runtime, customer_id, record_id, on_leaving=records_left)


def withdraw_all(session: WriteSession, runtime: Runtime, customer_id: str) -> consents.WithdrawAll:
    return consents.withdraw_all(session, runtime, customer_id, on_leaving=records_left)


def switch_cell(
    session: WriteSession,
    runtime: Runtime,
    customer_id: str,
    *,
    supplier_id: str,
    purpose: Purpose,
    category: Category,
    to: effective.Switch,
) -> effective.Switched:
    """One click on the grid of what each supplier may do now: allow or refuse that supplier that use (an
    allowed contact gives it her relay address, as a grant does)."""
    switched = effective.switch(
        session,
        runtime,
        customer_id,
        supplier_id=supplier_id,
        purpose=purpose,
        category=category,
        to=to,
        on_leaving=records_left,
    )
    if to is effective.Switch.ALLOW and _opens_contact(purpose, [category]):
        aliases.ensure(session, runtime, customer_id, supplier_id)
    return switched


def switch_personalisation(
    session: WriteSession, runtime: Runtime, customer_id: str, supplier_id: str, *, enabled: bool
) -> bool:
    """Personalisation by the supplier on or off (kept as consent records); whether it is now permitted."""
    return personalisation.switch(
        session, runtime, customer_id, supplier_id, enabled=enabled, on_leaving=records_left
    )


def replace_terms(
    session: WriteSession, runtime: Runtime, customer_id: str, specs: Sequence[terms.TermSpec]
) -> list[terms.TermView]:
    """Replace the standing terms; a new term can exclude the customer from audiences: counts retired."""
    views = terms.replace_terms(session, runtime, customer_id, specs)
    audience_index.population_changed(session)
    return views


def record_gpc(
    session: WriteSession, runtime: Runtime, customer_id: str, now: datetime | None = None
) -> bool:
    """A `Sec-GPC: 1` request: the opt-out is recorded and logged once; True when newly recorded.

    Cached audience answers are retired before the log entry is appended, as for every consent change
    (the audience epoch is locked before the policy log's state).
    """
    now = now or utcnow()
    if not gpc.store_signal(session, customer_id, now):
        return False
    audience_index.population_changed(session)
    gpc.log_signal(session, runtime, customer_id, now)
    return True

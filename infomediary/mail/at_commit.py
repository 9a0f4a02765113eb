"""Mail that goes out only if the transaction that asked for it commits.

A registration that rolls back must not have mailed a link to an account that does not exist, nor a page
that shows its form again after a refusal (`api.deps.keep_only_the_record`) a notice of something undone.
So a service queues its messages on the session (`send_at_commit`), and they are handed to the transport
after the commit, like the policy log's entries are appended in it (`policylog.service.append_at_commit`),
or dropped with a rollback. A savepoint's release is not the commit: they wait for the transaction's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from infomediary.database import WriteSession
from infomediary.mail.message import Mail
from infomediary.mail.transport import Transport

log = structlog.get_logger(__name__)

_PENDING = "mail.pending"  # session.info key: mail waiting for the commit


@dataclass
class _Pending:
    mails: list[tuple[Transport, Mail]] = field(default_factory=list)


def send_at_commit(session: WriteSession, transport: Transport, mail: Mail) -> None:
    """Send `mail` through `transport` once the session's transaction commits; never if it rolls back."""
    if session.get_transaction() is None:
        # Queued before the first statement: begin the transaction now, so that a rollback is seen to end it
        # (rolling back a session with no transaction ends nothing) and the mail goes with it.
        session.begin()
    pending: _Pending | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = _Pending()
    pending.mails.append((transport, mail))


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint's release: the mail waits for the transaction's own commit
    pending: _Pending | None = session.info.pop(_PENDING, None)
    if pending is None:
        return
    for transport, mail in pending.mails:
        # Committed already: whatever happens now, the request succeeded and must say so.
        try:
            transport.deliver(mail)
        except Exception as exc:
            log.warning("mail.not_sent", kind=mail.kind, error=type(exc).__name__)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        # Rolled back (a commit has sent them already): the mail goes with what it was about.
        session.info.pop(_PENDING, None)

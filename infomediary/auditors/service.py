"""Auditor administration from the command line."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from infomediary.auditors.models import Auditor
from infomediary.errors import Conflict, NotFound
from infomediary.ids import new_id
from infomediary.oauth.credentials import ClientCredentials, create_client
from infomediary.oauth.models import ClientKind
from infomediary.settings import AUDITOR_SCOPES


class AuditorNameTaken(Conflict):
    slug = "auditor-name-taken"
    title = "An auditor with this name already exists"


class AuditorNotFound(NotFound):
    slug = "auditor-not-found"
    title = "No such auditor"


def find(session: Session, name_or_id: str) -> Auditor:
    auditor = session.scalar(select(Auditor).where(or_(Auditor.id == name_or_id, Auditor.name == name_or_id)))
    if auditor is None:
        raise AuditorNotFound(f"no auditor with id or name {name_or_id!r}")
    return auditor


def add(
    session: Session, *, name: str, scopes: tuple[str, ...] = AUDITOR_SCOPES
) -> tuple[str, ClientCredentials]:
    name = name.strip()
    if session.scalar(select(Auditor.id).where(Auditor.name == name)) is not None:
        raise AuditorNameTaken(f"an auditor named {name!r} already exists")
    auditor = Auditor(id=new_id("aud"), name=name)
    session.add(auditor)
    session.flush()
    return auditor.id, create_client(
        session, kind=ClientKind.AUDITOR, owner_id=auditor.id, scopes=list(scopes)
    )

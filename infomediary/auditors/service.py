"""Auditor records: create and find (registering one with its OAuth client is `flows.auditor_registered`)."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from infomediary.auditors.models import Auditor
from infomediary.database import WriteSession
from infomediary.errors import Conflict, NotFound
from infomediary.ids import new_id


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


def create(session: WriteSession, *, name: str) -> str:
    """A new auditor record under a unique name; returns its id."""
    name = name.strip()
    if session.scalar(select(Auditor.id).where(Auditor.name == name)) is not None:
        raise AuditorNameTaken(f"an auditor named {name!r} already exists")
    auditor = Auditor(id=new_id("aud"), name=name)
    session.add(auditor)
    session.flush()
    return auditor.id

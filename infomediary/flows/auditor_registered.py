"""An auditor was registered (from the command line or the demo): its record and its OAuth client."""

from __future__ import annotations

from infomediary.auditors import service as auditors
from infomediary.database import WriteSession
from infomediary.oauth.credentials import ClientCredentials, create_client
from infomediary.oauth.models import ClientKind
from infomediary.settings import AUDITOR_SCOPES


def register_auditor(
    session: WriteSession, *, name: str, scopes: tuple[str, ...] = AUDITOR_SCOPES
) -> tuple[str, ClientCredentials]:
    """Returns the auditor's id and the client credentials (the secret is shown this once)."""
    auditor_id = auditors.create(session, name=name)
    return auditor_id, create_client(
        session, kind=ClientKind.AUDITOR, owner_id=auditor_id, scopes=list(scopes)
    )

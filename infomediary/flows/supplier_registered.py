"""A supplier was registered (command line, demo): its record, the log entry and its OAuth client."""

from __future__ import annotations

from collections.abc import Sequence

from infomediary.database import WriteSession
from infomediary.oauth.credentials import ClientCredentials, create_client
from infomediary.oauth.models import ClientKind
from infomediary.policylog import kinds as log_kinds
from infomediary.policylog.service import append as log_append
from infomediary.suppliers import service as suppliers


def register_supplier(
    session: WriteSession, *, name: str, scopes: Sequence[str]
) -> tuple[suppliers.SupplierView, ClientCredentials]:
    """Returns the record and the client credentials (the secret is shown this once)."""
    suppliers.check_scopes(scopes)
    supplier = suppliers.create(session, name=name)
    log_append(session, {"kind": log_kinds.SUPPLIER_REGISTERED, "supplier_id": supplier.id})
    credentials = create_client(session, kind=ClientKind.SUPPLIER, owner_id=supplier.id, scopes=list(scopes))
    return supplier, credentials

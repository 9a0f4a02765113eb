"""Imports every table so that Alembic and the drift check see one complete metadata."""

from infomediary.auditors.models import Auditor
from infomediary.customers.models import ConsumerSession, Customer, LoginFailure
from infomediary.database import Base
from infomediary.oauth.models import OAuthClient, RevokedToken
from infomediary.profiles.models import (
    ActivityRecord,
    CustomerKey,
    ProcessingRestriction,
    ProfileChange,
    ProfileField,
)
from infomediary.suppliers.models import Supplier

__all__ = [
    "ActivityRecord",
    "Auditor",
    "Base",
    "ConsumerSession",
    "Customer",
    "CustomerKey",
    "LoginFailure",
    "OAuthClient",
    "ProcessingRestriction",
    "ProfileChange",
    "ProfileField",
    "RevokedToken",
    "Supplier",
]

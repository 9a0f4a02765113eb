"""Response bodies of the supplier's own routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class SupplierRead(BaseModel):
    id: str
    name: str
    status: str
    created_at: datetime
    scopes: list[str]

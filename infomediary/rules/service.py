"""A supplier's business rules: create, list, read, replace, delete. Only its own, by id or 404."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy import delete as sql_delete
from sqlalchemy.orm import Session

from infomediary.database import WriteSession, utcnow
from infomediary.ids import new_id
from infomediary.rules import language
from infomediary.rules.errors import InvalidRule, RuleNotFound, TooManyRules
from infomediary.rules.language import Rule, RuleError
from infomediary.rules.models import BusinessRuleRow
from infomediary.runtime import Runtime


@dataclass(frozen=True)
class RuleView:
    id: str
    name: str
    enabled: bool
    rule: dict[str, Any]
    categories: list[str]
    created_at: datetime
    updated_at: datetime


def parse(document: Any) -> Rule:
    """The rule, or `InvalidRule` with the JSON pointer and reason of the problem."""
    try:
        return language.parse(document)
    except RuleError as exc:
        raise InvalidRule(
            str(exc), errors=[{"pointer": "/body/rule" + exc.pointer.rstrip("/"), "reason": exc.reason}]
        ) from None


def _view(row: BusinessRuleRow) -> RuleView:
    rule = language.parse(json.loads(row.document))
    return RuleView(
        id=row.id,
        name=row.name,
        enabled=row.enabled,
        rule=language.dump(rule),
        categories=sorted(c.value for c in language.categories_of(rule)),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _own(session: Session, supplier_id: str, rule_id: str) -> BusinessRuleRow:
    row = session.get(BusinessRuleRow, rule_id)
    # Another supplier's rule is indistinguishable from a missing one.
    if row is None or row.supplier_id != supplier_id:
        raise RuleNotFound()
    return row


def create(
    session: WriteSession,
    runtime: Runtime,
    supplier_id: str,
    *,
    name: str,
    document: Any,
    enabled: bool = True,
) -> RuleView:
    rule = parse(document)
    stored = session.scalar(select(func.count()).where(BusinessRuleRow.supplier_id == supplier_id)) or 0
    if stored >= runtime.settings.rules_max_per_supplier:
        raise TooManyRules(f"at most {runtime.settings.rules_max_per_supplier} rules; delete one first")
    now = utcnow()
    row = BusinessRuleRow(
        id=new_id("rul"),
        supplier_id=supplier_id,
        name=name,
        document=json.dumps(language.dump(rule), sort_keys=True),
        enabled=enabled,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return _view(row)


def replace(
    session: WriteSession, supplier_id: str, rule_id: str, *, name: str, document: Any, enabled: bool
) -> RuleView:
    row = _own(session, supplier_id, rule_id)
    rule = parse(document)
    row.name, row.enabled, row.updated_at = name, enabled, utcnow()
    row.document = json.dumps(language.dump(rule), sort_keys=True)
    session.flush()
    return _view(row)


def delete(session: Session, supplier_id: str, rule_id: str) -> None:
    """Delete the supplier's own rule; another's, or one already deleted, is not found.

    One DELETE whose row count decides: of two deletions racing, the second finds nothing (404), where
    reading the row first let both try to delete it.
    """
    statement = sql_delete(BusinessRuleRow).where(
        BusinessRuleRow.id == rule_id, BusinessRuleRow.supplier_id == supplier_id
    )
    result = session.execute(statement, execution_options={"synchronize_session": False})
    if getattr(result, "rowcount", 0) == 0:
        raise RuleNotFound()


def read(session: Session, supplier_id: str, rule_id: str) -> RuleView:
    return _view(_own(session, supplier_id, rule_id))


def list_rules(session: Session, supplier_id: str) -> list[RuleView]:
    rows = session.scalars(
        select(BusinessRuleRow)
        .where(BusinessRuleRow.supplier_id == supplier_id)
        .order_by(BusinessRuleRow.created_at, BusinessRuleRow.id)
    )
    return [_view(r) for r in rows]


# Built once, plain columns: read on every recommendation request.
_ENABLED = (
    select(BusinessRuleRow.id, BusinessRuleRow.document)
    .where(BusinessRuleRow.supplier_id == bindparam("supplier_id"), BusinessRuleRow.enabled.is_(True))
    .order_by(BusinessRuleRow.created_at, BusinessRuleRow.id)
)


def enabled_rules(session: Session, supplier_id: str) -> dict[str, Rule]:
    """The supplier's enabled rules by id, in creation order (the order their effects merge in)."""
    rows = session.execute(_ENABLED, {"supplier_id": supplier_id})
    return {r.id: language.parse(json.loads(r.document)) for r in rows}

"""Auditors read and verify the policy log, get reports, and record findings and sanctions."""

from __future__ import annotations

import base64
import csv
import io
from typing import Annotated, Literal

from fastapi import Query, Security, status
from fastapi.responses import Response

from api.audit.schemas import (
    Article30Record,
    ConsistencyRead,
    EntriesRead,
    EntryRead,
    FindingCreate,
    InclusionRead,
    LogKeyRead,
    LogLineRead,
    LogSearchRead,
    ProcessingReport,
    ProcessingRowRead,
    RecipientRead,
    RecordedRead,
    SanctionCreate,
    TreeHeadRead,
    TreeHeadsRead,
)
from api.bearer import auditor
from api.deps import ReadSessionDep, RuntimeDep, WriteSessionDep
from api.params import IdempotencyKey, LeafCursor, TreeHeadCursor
from api.problems import problem_responses
from api.routing import api_router
from api.tree_heads import FreshTreeHead
from infomediary.ledger.errors import IdempotencyKeyRequired
from infomediary.oauth.bearer import Principal
from infomediary.policylog import proofs, reports, search, treehead
from infomediary.policylog.errors import NoTreeHead
from infomediary.sanctions import penalty
from infomediary.sanctions import service as sanctions
from infomediary.sanctions.models import SanctionKind
from infomediary.text import Id, Index, Key

router = api_router(prefix="/v1/audit", tags=["audit"], responses=problem_responses(401, 403))
public_router = api_router(tags=["audit"])
Reader = Annotated[Principal, Security(auditor, scopes=["audit:read"])]
Writer = Annotated[Principal, Security(auditor, scopes=["audit:write"])]
IndexQuery = Annotated[Index, Query()]
Limit = Annotated[int, Query(ge=1, le=200)]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@public_router.get(
    "/.well-known/policy-log-key", response_model=LogKeyRead, summary="Policy-log verifier key"
)
def log_key(runtime: RuntimeDep) -> LogKeyRead:
    return LogKeyRead(
        origin=runtime.settings.resolved_log_origin, verifier_key=treehead.verifier_key(runtime)
    )


@router.get(
    "/tree-head",
    response_model=TreeHeadRead,
    summary="The latest signed tree head",
    dependencies=[FreshTreeHead],
)
def tree_head(caller: Reader, session: ReadSessionDep) -> TreeHeadRead:
    head = treehead.latest(session)
    if head is None:
        raise NoTreeHead()
    return _head(head)


def _head(head: treehead.SignedTreeHead) -> TreeHeadRead:
    return TreeHeadRead(
        tree_size=head.tree_size,
        timestamp=head.timestamp_ms,
        sha256_root_hash=_b64(head.root_hash),
        checkpoint=head.checkpoint,
    )


@router.get(
    "/tree-heads",
    response_model=TreeHeadsRead,
    responses=problem_responses(422),
    summary="Every signed tree head, newest first (paged)",
)
def tree_heads(
    caller: Reader, session: ReadSessionDep, cursor: TreeHeadCursor = None, limit: Limit = 50
) -> TreeHeadsRead:
    page = treehead.history(session, before=cursor, limit=limit)
    return TreeHeadsRead(tree_heads=[_head(h) for h in page.heads], next_cursor=page.next_cursor)


@router.get(
    "/log",
    response_model=LogSearchRead,
    responses=problem_responses(422),
    summary="Entries newest first, filtered by supplier, purpose and kind, in plain words (paged)",
)
def search_log(
    caller: Reader,
    session: ReadSessionDep,
    supplier_id: Annotated[Id | None, Query()] = None,
    purpose: Annotated[Key | None, Query()] = None,
    kind: Annotated[Key | None, Query(max_length=40)] = None,
    cursor: LeafCursor = None,
    limit: Limit = 50,
) -> LogSearchRead:
    page = search.search(
        session, supplier_id=supplier_id, purpose=purpose, kind=kind, before=cursor, limit=limit
    )
    return LogSearchRead(
        entries=[
            LogLineRead(
                leaf_index=line.leaf_index,
                kind=line.kind,
                at=line.at,
                supplier_id=line.supplier_id,
                supplier_name=line.supplier_name,
                purpose=line.purpose,
                decision=line.decision,
                text=line.text,
                leaf_input=_b64(line.entry),
            )
            for line in page.lines
        ],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/entries",
    response_model=EntriesRead,
    responses=problem_responses(400),
    summary="Entries start..end inclusive (at most 1000 per call)",
)
def entries(caller: Reader, session: ReadSessionDep, start: IndexQuery, end: IndexQuery) -> EntriesRead:
    found = proofs.entries(session, start, end)
    return EntriesRead(
        entries=[EntryRead(leaf_index=e.leaf_index, leaf_input=_b64(e.entry), kind=e.kind) for e in found]
    )


@router.get(
    "/proofs/inclusion",
    response_model=InclusionRead,
    responses=problem_responses(400),
    summary="Audit path of one leaf in a tree of the given size",
)
def inclusion(
    caller: Reader, session: ReadSessionDep, leaf_index: IndexQuery, tree_size: IndexQuery
) -> InclusionRead:
    path = proofs.inclusion(session, leaf_index, tree_size)
    return InclusionRead(leaf_index=leaf_index, audit_path=[_b64(p) for p in path])


@router.get(
    "/proofs/consistency",
    response_model=ConsistencyRead,
    responses=problem_responses(400),
    summary="Proof that the tree of size `second` extends the tree of size `first`",
)
def consistency(
    caller: Reader, session: ReadSessionDep, first: IndexQuery, second: IndexQuery
) -> ConsistencyRead:
    return ConsistencyRead(consistency=[_b64(p) for p in proofs.consistency(session, first, second)])


_CSV_FIELDS = list(ProcessingRowRead.model_fields)


@router.get(
    "/reports/processing",
    response_model=ProcessingReport,
    responses={200: {"content": {"text/csv": {}}}},
    summary="Decisions, permits, denies, releases and epsilon per supplier and purpose (JSON or CSV)",
)
def processing_report(
    caller: Reader, session: ReadSessionDep, format: Literal["json", "csv"] = "json"
) -> ProcessingReport | Response:
    rows = [
        ProcessingRowRead(
            supplier_id=r.supplier_id,
            supplier_name=r.supplier_name,
            purpose=r.purpose,
            decisions=r.decisions,
            permits=r.permits,
            denies=r.denies,
            releases=r.releases,
            customers_released=r.customers_released,
            epsilon_spent=r.epsilon_milli / 1000,
        )
        for r in reports.processing(session)
    ]
    if format == "json":
        return ProcessingReport(rows=rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row.model_dump())
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8")


@router.get(
    "/reports/article30",
    response_model=Article30Record,
    summary="Record of processing (GDPR Article 30 style)",
)
def article30(caller: Reader, session: ReadSessionDep, runtime: RuntimeDep) -> Article30Record:
    record = reports.article30(session, runtime)
    return Article30Record(
        controller=record.controller,
        contact=record.contact,
        purposes=record.purposes,
        categories_of_data=record.categories,
        data_subjects=record.data_subjects,
        recipients=[
            RecipientRead(supplier_id=r.supplier_id, name=r.name, status=r.status, purposes=r.purposes)
            for r in record.recipients
        ],
        retention=record.retention,
        safeguards=record.safeguards,
        policy_log_size=record.log_size,
    )


@router.post(
    "/findings",
    response_model=RecordedRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(404, 413, 422),
    summary="Record a finding against a supplier (logged)",
)
def record_finding(body: FindingCreate, caller: Writer, session: WriteSessionDep) -> RecordedRead:
    recorded = sanctions.record_finding(
        session,
        auditor_id=caller.owner_id,
        supplier_id=body.supplier_id,
        severity=body.severity,
        text=body.text,
    )
    return RecordedRead(**vars(recorded))


@router.post(
    "/sanctions",
    response_model=RecordedRead,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(400, 402, 404, 409, 413, 422),
    summary="Record a sanction against a supplier (logged); a suspension takes effect at once",
    description=(
        "Strikes move the supplier's status (active → warned → throttled → suspended). A `penalty` debits "
        "the supplier `amount_per_customer` for each `affected` pseudonym and credits those customers, in "
        "one ledger transaction; it needs an `Idempotency-Key` header, and a repeat returns the first result."
    ),
)
def record_sanction(
    body: SanctionCreate,
    caller: Writer,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> RecordedRead:
    if body.kind is SanctionKind.PENALTY:
        if not idempotency_key:
            raise IdempotencyKeyRequired()
        recorded = penalty.impose(
            session,
            runtime,
            auditor_id=caller.owner_id,
            supplier_id=body.supplier_id,
            reason=body.reason,
            amount_per_customer=body.amount_per_customer or 0,
            affected=body.affected or [],
            idempotency_key=idempotency_key,
        )
    else:
        recorded = sanctions.record_sanction(
            session,
            runtime.settings,
            auditor_id=caller.owner_id,
            supplier_id=body.supplier_id,
            kind=body.kind,
            reason=body.reason,
        )
    return RecordedRead(**vars(recorded))

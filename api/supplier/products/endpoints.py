"""The supplier's catalog and business rules (`catalog:write`): upload, update, list; rule CRUD."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Response, Security, status

from api.bearer import supplier
from api.deps import ReadSessionDep, RuntimeDep, WriteSessionDep
from api.problems import problem_responses
from api.routing import api_router
from api.supplier.products.schemas import (
    CatalogItemRead,
    CatalogPage,
    CatalogReplace,
    CatalogUpdate,
    RuleIn,
    RuleRead,
    RulesRead,
    UploadRead,
)
from infomediary.oauth.bearer import Principal
from infomediary.products import service as products
from infomediary.rules import service as rules
from infomediary.text import Id, Opaque

router = api_router(prefix="/v1/catalog", tags=["supplier"], responses=problem_responses(401, 403))
CatalogWriter = Annotated[Principal, Security(supplier, scopes=["catalog:write"])]
RuleId = Annotated[Id, Path()]


def _upload(result: products.UploadResult) -> UploadRead:
    return UploadRead(
        created=result.created, updated=result.updated, deleted=result.deleted, total=result.total
    )


@router.put(
    "",
    response_model=UploadRead,
    responses=problem_responses(413, 422),
    summary="Replace your whole catalog (bulk upload; every bad row is listed by index, nothing is stored)",
)
def replace_catalog(
    body: CatalogReplace, caller: CatalogWriter, session: WriteSessionDep, runtime: RuntimeDep
) -> UploadRead:
    return _upload(products.replace(session, runtime, caller.owner_id, body.items))


@router.patch(
    "",
    response_model=UploadRead,
    responses=problem_responses(413, 422),
    summary="Insert, change or remove some items of your catalog",
)
def update_catalog(
    body: CatalogUpdate, caller: CatalogWriter, session: WriteSessionDep, runtime: RuntimeDep
) -> UploadRead:
    return _upload(products.update(session, runtime, caller.owner_id, body.upsert, body.delete))


@router.get("", response_model=CatalogPage, summary="Your catalog, in item id order, a page at a time")
def list_catalog(
    caller: CatalogWriter,
    session: ReadSessionDep,
    cursor: Annotated[Opaque | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> CatalogPage:
    page = products.page(session, caller.owner_id, cursor=cursor, limit=limit)
    return CatalogPage(
        items=[CatalogItemRead(**vars(item)) for item in page.items], next_cursor=page.next_cursor
    )


def _rule(view: rules.RuleView) -> RuleRead:
    return RuleRead(**vars(view))


@router.post(
    "/rules",
    status_code=status.HTTP_201_CREATED,
    response_model=RuleRead,
    responses=problem_responses(409, 422),
    summary="Store a business rule (the JSON rule language)",
)
def create_rule(
    body: RuleIn, caller: CatalogWriter, session: WriteSessionDep, runtime: RuntimeDep
) -> RuleRead:
    return _rule(
        rules.create(
            session, runtime, caller.owner_id, name=body.name, document=body.rule, enabled=body.enabled
        )
    )


@router.get("/rules", response_model=RulesRead, summary="Your business rules")
def list_rules(caller: CatalogWriter, session: ReadSessionDep) -> RulesRead:
    return RulesRead(items=[_rule(v) for v in rules.list_rules(session, caller.owner_id)])


@router.get(
    "/rules/{rule_id}", response_model=RuleRead, responses=problem_responses(404), summary="One of your rules"
)
def read_rule(rule_id: RuleId, caller: CatalogWriter, session: ReadSessionDep) -> RuleRead:
    return _rule(rules.read(session, caller.owner_id, rule_id))


@router.put(
    "/rules/{rule_id}",
    response_model=RuleRead,
    responses=problem_responses(404, 422),
    summary="Replace a rule",
)
def replace_rule(rule_id: RuleId, body: RuleIn, caller: CatalogWriter, session: WriteSessionDep) -> RuleRead:
    return _rule(
        rules.replace(
            session, caller.owner_id, rule_id, name=body.name, document=body.rule, enabled=body.enabled
        )
    )


@router.delete(
    "/rules/{rule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404),
    summary="Delete a rule",
)
def delete_rule(rule_id: RuleId, caller: CatalogWriter, session: WriteSessionDep) -> Response:
    rules.delete(session, caller.owner_id, rule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

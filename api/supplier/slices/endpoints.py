"""Pseudonymous slices for suppliers (`slices:read`): generalised, k-anonymous rows streamed as NDJSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Security
from fastapi.responses import StreamingResponse

from api.bearer import supplier
from api.deps import RuntimeDep, WriteSessionDep
from api.params import IdempotencyKey
from api.problems import problem_responses
from api.routing import api_router
from api.supplier.slices.schemas import SliceRequest
from infomediary.oauth.bearer import Principal
from infomediary.slices import service

router = api_router(prefix="/v1/slices", tags=["supplier"], responses=problem_responses(401, 403))
SliceReader = Annotated[Principal, Security(supplier, scopes=["slices:read"])]
NDJSON = "application/x-ndjson"


LINES_PER_CHUNK = 256


def _lines(rows: list[dict[str, Any]]) -> Iterator[bytes]:
    # Serialised lazily from rows already computed and logged: the request's session is closed by now.
    # A few hundred lines per chunk: Starlette runs a plain iterator on a worker thread, one hop per chunk,
    # and a line per chunk made a slice of a few hundred customers spend more on hops and sends than on JSON.
    for start in range(0, len(rows), LINES_PER_CHUNK):
        yield b"".join(
            json.dumps(row, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
            for row in rows[start : start + LINES_PER_CHUNK]
        )


@router.post(
    "",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "One JSON object per line: `pseudonym` and the generalised fields asked.",
            "content": {NDJSON: {}},
        },
        **problem_responses(400, 402, 409, 413, 422),
    },
    summary="A k-anonymous pseudonymous slice of consented fields, streamed as NDJSON",
    description=(
        "Rows for the customers whose consent permits a pseudonymous slice of these fields' categories for "
        "the purpose at the offered price, keyed by pseudonyms of this release only: the same customer has "
        "unrelated pseudonyms in two slices, so slices cannot be joined row by row (a pseudonym from a "
        "slice still names its customer in your requests). Every field is generalised (age to a band, "
        "postal code to a prefix, dates to a month, interests to categories) and the slice is made "
        "k-anonymous over all its fields (generalised further, then classes below k suppressed). Headers "
        "give the release id, count, k, the generalisation level, the suppressed rows and the price per "
        "customer."
    ),
)
def take_slice(
    body: SliceRequest,
    caller: SliceReader,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> StreamingResponse:
    taken = service.take_slice(
        session,
        runtime,
        caller.owner_id,
        body.purpose,
        body.fields,
        max_price_per_customer=body.max_price_per_customer,
        idempotency_key=idempotency_key,
    )
    headers = {
        "Slice-Release": taken.release_id,
        "Slice-Count": str(len(taken.rows)),
        "Slice-K": str(taken.k),
        "Slice-Generalisation-Level": str(taken.level),
        "Slice-Suppressed": str(taken.suppressed),
        "Slice-Price-Per-Customer": str(taken.price_per_customer),
        "Slice-Columns": ",".join(taken.columns),
    }
    return StreamingResponse(_lines(taken.rows), media_type=NDJSON, headers=headers)

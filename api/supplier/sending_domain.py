"""The supplier's sending domain for the mail relay: the domain its mail to customers' relay addresses comes
From, and the DKIM key that mail must be signed with."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from api.bearer import CurrentSupplier
from api.deps import ReadSessionDep, WriteSessionDep
from api.problems import problem_responses
from api.routing import api_router
from infomediary.relay import sending_domains
from infomediary.text import NO_NUL

DomainName = Annotated[str, StringConstraints(min_length=3, max_length=253, pattern=r"^[A-Za-z0-9.-]+$")]
Selector = Annotated[str, StringConstraints(min_length=1, max_length=63, pattern=r"^[A-Za-z0-9_-]+$")]
PublicKey = Annotated[str, StringConstraints(min_length=40, max_length=4096, pattern=NO_NUL)]

router = api_router(prefix="/v1/supplier", tags=["supplier"], responses=problem_responses(401, 403))


class SendingDomainIn(BaseModel):
    domain: DomainName = Field(
        description="The domain your mail to relay addresses is From (the From address's domain, exactly)."
    )
    selector: Selector = Field(description="The DKIM selector (`s=`) your mail is signed under.")
    public_key: PublicKey = Field(
        description="The DKIM public key: PEM, or the `p=` value of its DNS record (RSA of 1024 bits or "
        "more, or Ed25519). The relay checks signatures against this key, not DNS."
    )


class SendingDomainRead(BaseModel):
    domain: str
    selector: str
    dns_record: str = Field(description="The DKIM record of the bound key, as it would be published.")
    updated_at: datetime


def _read(found: sending_domains.SendingDomain) -> SendingDomainRead:
    return SendingDomainRead(
        domain=found.domain, selector=found.selector, dns_record=found.dns_record, updated_at=found.updated_at
    )


@router.put(
    "/sending-domain",
    response_model=SendingDomainRead,
    responses=problem_responses(413, 422),
    summary="Bind the domain and DKIM key your mail to customers' relay addresses is sent with",
)
def bind_sending_domain(
    body: SendingDomainIn, caller: CurrentSupplier, session: WriteSessionDep
) -> SendingDomainRead:
    bound = sending_domains.bind(
        session, caller.owner_id, domain=body.domain, selector=body.selector, public_key=body.public_key
    )
    return _read(bound)


@router.get(
    "/sending-domain",
    response_model=SendingDomainRead,
    responses=problem_responses(404),
    summary="The sending domain and DKIM key bound to your account",
)
def read_sending_domain(caller: CurrentSupplier, session: ReadSessionDep) -> SendingDomainRead:
    return _read(sending_domains.require(session, caller.owner_id))

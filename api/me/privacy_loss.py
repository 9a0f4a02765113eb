"""The customer's own privacy-loss account: what the broker's differentially private releases that
included her cost her this period, supplier by supplier, and the cap after which she is left out."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from api.deps import ReadSessionDep, RuntimeDep, WriteSessionDep
from api.me.auth import CurrentConsumer
from api.problems import problem_responses
from api.routing import api_router
from infomediary.audiences import accounting
from infomediary.audiences.noise import MILLI
from infomediary.database import utcnow
from infomediary.privacy_loss.service import Account
from infomediary.settings import Settings

router = api_router(prefix="/v1/me", tags=["consumer"], responses=problem_responses(401))


class SupplierLoss(BaseModel):
    supplier_id: str
    supplier_name: str
    epsilon: float = Field(description="What this supplier's releases that included you cost, this period.")
    releases: int


class PrivacyLossRead(BaseModel):
    period_start: datetime
    period_end: datetime = Field(description="When the account starts again from zero.")
    epsilon_spent: float = Field(description="Your privacy loss this period, over every supplier.")
    cap: float = Field(description="Past this, you are left out of every further release until period_end.")
    own_cap: bool = Field(description="true when you chose the cap; false for the operator's default.")
    default_cap: float
    maximum_cap: float
    epsilon_remaining: float
    cap_reached: bool
    by_supplier: list[SupplierLoss]


class CapChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    epsilon: float | None = Field(
        ge=0, le=1_000_000, description="Your cap per period in epsilon; null for the operator's default."
    )


def _read(account: Account, settings: Settings) -> PrivacyLossRead:
    return PrivacyLossRead(
        period_start=account.period_start,
        period_end=account.period_start + timedelta(seconds=settings.audience_budget_period_seconds),
        epsilon_spent=account.spent_milli / MILLI,
        cap=account.cap_milli / MILLI,
        own_cap=account.own_cap,
        default_cap=settings.privacy_loss_cap,
        maximum_cap=settings.privacy_loss_cap_max,
        epsilon_remaining=account.remaining_milli / MILLI,
        cap_reached=account.reached,
        by_supplier=[
            SupplierLoss(
                supplier_id=s.supplier_id,
                supplier_name=s.supplier_name,
                epsilon=s.spent_milli / MILLI,
                releases=s.releases,
            )
            for s in account.by_supplier
        ],
    )


@router.get(
    "/privacy-loss",
    response_model=PrivacyLossRead,
    summary="My privacy loss this period: by supplier, and against my cap",
)
def my_privacy_loss(
    consumer: CurrentConsumer, session: ReadSessionDep, runtime: RuntimeDep
) -> PrivacyLossRead:
    settings = runtime.settings
    return _read(accounting.account_of(session, settings, consumer.customer_id, utcnow()), settings)


@router.put(
    "/privacy-loss/cap",
    response_model=PrivacyLossRead,
    responses=problem_responses(413, 422),
    summary="Set my privacy-loss cap per period (null: the operator's default)",
)
def set_my_cap(
    body: CapChange, consumer: CurrentConsumer, session: WriteSessionDep, runtime: RuntimeDep
) -> PrivacyLossRead:
    settings = runtime.settings
    account = accounting.set_own_cap(session, settings, consumer.customer_id, body.epsilon, utcnow())
    return _read(account, settings)

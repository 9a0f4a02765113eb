"""A refusal that leaves a record keeps only that record: what the refused operation wrote is rolled back.

`DomainError.recording` replaces the old class-wide `commits` flag, under which a refusal committed whatever
the transaction held when it was raised. The request's session dependency (`api.deps.finish`) and pages that
show their form again (`api.deps.keep_only_the_record`) write the record alone.
"""

from __future__ import annotations

from datetime import timedelta

import anyio
import pytest
from sqlalchemy import select

from api.deps import finish, keep_only_the_record
from infomediary.database import ReadOnlySessionError, utcnow
from infomediary.errors import DomainError, Forbidden
from infomediary.oauth.models import RevokedToken
from infomediary.runtime import Runtime


def _revoked(jti: str) -> RevokedToken:
    return RevokedToken(jti=jti, client_id="client", expires_at=utcnow() + timedelta(hours=1))


def _refusal() -> DomainError:
    return Forbidden("refused").recording(lambda into: into.add(_revoked("the-record")))


def _stored(runtime: Runtime) -> set[str]:
    with runtime.read_session_factory() as session:
        return set(session.scalars(select(RevokedToken.jti)))


def _refused_request(runtime: Runtime, refusal: DomainError) -> None:
    """A request's session that wrote, then ends as the session dependency ends it on `refusal`."""

    async def request() -> None:
        session = runtime.open_request_sessions().writes()
        session.add(_revoked("written-before-the-refusal"))
        await session.flush()
        await finish(session, commit=False, record=refusal.record)

    anyio.run(request)


def test_the_request_dependency_keeps_the_record_and_drops_the_rest(runtime: Runtime) -> None:
    _refused_request(runtime, _refusal())
    assert _stored(runtime) == {"the-record"}


def test_a_page_that_shows_its_form_again_keeps_only_the_record(runtime: Runtime) -> None:
    with runtime.session_factory() as session:
        session.add(_revoked("written-before-the-refusal"))
        session.flush()
        keep_only_the_record(session, _refusal().record)
        session.commit()
    assert _stored(runtime) == {"the-record"}


def test_a_refusal_without_a_record_leaves_nothing(runtime: Runtime) -> None:
    _refused_request(runtime, Forbidden("refused"))
    assert _stored(runtime) == set()


def test_a_record_on_a_request_read_session_is_refused(runtime: Runtime) -> None:
    async def request() -> None:
        session = runtime.open_request_sessions().reads()
        with pytest.raises(ReadOnlySessionError):
            await finish(session, commit=False, record=_refusal().record)

    anyio.run(request)


def test_a_record_on_a_read_session_is_refused(runtime: Runtime) -> None:
    with runtime.read_session_factory() as session, pytest.raises(ReadOnlySessionError):
        keep_only_the_record(session, _refusal().record)

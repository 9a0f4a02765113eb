"""A request cancelled midway (its client went away, a timeout under load) still ends its transaction.

AnyIO's cancellation is level-triggered: an unshielded commit or rollback awaited in a cancelled request is
cancelled at once, leaving the session open with its locks held. Under load on PostgreSQL that froze every
worker behind the policy log's lock; this checks the transaction ends whatever the cancellation.
"""

from __future__ import annotations

import anyio
import pytest
from sqlalchemy import text

from api.deps import finish
from infomediary.runtime import Runtime


@pytest.mark.parametrize("commit", [True, False])
def test_a_cancelled_request_still_ends_its_transaction(runtime: Runtime, commit: bool) -> None:
    async def cancelled_teardown() -> None:
        session = runtime.open_request_sessions().writes()
        await session.run(lambda synchronous: synchronous.execute(text("SELECT 1")))
        assert session.in_transaction()
        with anyio.CancelScope() as scope:
            scope.cancel()
            await finish(session, commit=commit)
        assert not session.in_transaction()

    anyio.run(cancelled_teardown)

    # The transaction ended: a writer elsewhere is not kept waiting.
    with runtime.session_factory() as other, other.begin():
        other.execute(text("SELECT 1"))

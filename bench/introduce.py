"""Some of the demo's customers introduce themselves to a supplier, as `POST /v1/me/pseudonyms` would: their
stable pseudonyms, printed as a JSON list. For `bench.load`, whose supplier asks recommendations only for
customers it has a relationship with (a slice's release pseudonyms are refused there, since rankings asked
under two releases would join them).

    python -m bench.introduce SUPPLIER_ID COUNT    (settings from the INFOMEDIARY_ environment)
"""

from __future__ import annotations

import json
import random
import sys

from sqlalchemy import select

import infomediary.models  # noqa: F401 - every table, so the ORM resolves the foreign keys
from infomediary.audiences.models import AudienceIndexRow
from infomediary.database import unit_of_work
from infomediary.pseudonyms import service as pseudonyms
from infomediary.runtime import Runtime
from infomediary.settings import Settings


def main(argv: list[str] | None = None) -> int:
    supplier_id, count = (argv or sys.argv[1:])[:2]
    with Runtime.open(Settings()) as runtime:
        with runtime.read_session_factory() as session:
            everyone = list(session.scalars(select(AudienceIndexRow.customer_id).order_by("customer_id")))
        chosen = random.Random(13).sample(everyone, min(int(count), len(everyone)))
        with unit_of_work(runtime.session_factory) as session:
            issued = [pseudonyms.issue(session, runtime, supplier_id, c).pseudonym for c in chosen]
    print(json.dumps(issued))
    return 0


if __name__ == "__main__":
    sys.exit(main())

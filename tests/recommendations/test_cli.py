"""`infomediary recommend train` as an operator runs it, on the test database."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from infomediary.cli import app
from infomediary.database import unit_of_work
from infomediary.recommendations.models import RecommenderModelRow
from infomediary.runtime import Runtime
from infomediary.suppliers.models import Supplier
from tests.fixtures.population import make_customers
from tests.recommendations.test_training import _shop, _view_items


@pytest.mark.committing  # the command runs in-process on its own connections
def test_train_command_trains_the_named_supplier(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFOMEDIARY_DATA_DIR", str(runtime.settings.data_dir))
    monkeypatch.setenv("INFOMEDIARY_DATABASE_URL", runtime.settings.resolved_database_url)
    supplier_id = _shop(runtime)
    for customer_id in make_customers(runtime, 3):
        _view_items(runtime, customer_id, [1, 2, 3])
    with unit_of_work(runtime.session_factory) as session:
        name = session.get(Supplier, supplier_id).name  # type: ignore[union-attr]
    result = CliRunner().invoke(app, ["recommend", "train", "--supplier", name])
    assert result.exit_code == 0, result.output
    assert "als" in result.output and "3" in result.output
    with unit_of_work(runtime.session_factory) as session:
        kinds = set(
            session.scalars(
                select(RecommenderModelRow.kind).where(RecommenderModelRow.supplier_id == supplier_id)
            )
        )
    assert kinds == {"als", "item_item", "popularity"}
    unknown = CliRunner().invoke(app, ["recommend", "train", "--supplier", "no such shop"])
    assert unknown.exit_code == 1

"""Catalog service bounds: a catalog never grows past its limit, by replacement or by increments, and a
refused write changes nothing."""

from __future__ import annotations

import secrets

import pytest

from infomediary.database import unit_of_work
from infomediary.flows import supplier_registered
from infomediary.products import service as products
from infomediary.products.errors import CatalogRejected, CatalogTooLarge
from infomediary.runtime import Runtime
from tests.fixtures.audiences import audience_runtime


def _rows(prefix: str, count: int) -> list[dict[str, object]]:
    return [{"id": f"{prefix}:{i}", "title": "t", "price": 1, "currency": "EUR"} for i in range(count)]


def test_a_catalog_never_grows_past_its_limit(runtime: Runtime) -> None:
    with audience_runtime(runtime, catalog_max_items=3) as small:
        with unit_of_work(small.session_factory) as session:
            view, _ = supplier_registered.register_supplier(
                session, name=f"Shop {secrets.token_hex(3)}", scopes=["catalog:write"]
            )
            products.replace(session, small, view.id, _rows("a", 3))
        with pytest.raises(CatalogTooLarge), unit_of_work(small.session_factory) as session:
            products.replace(session, small, view.id, _rows("b", 4))
        with pytest.raises(CatalogTooLarge), unit_of_work(small.session_factory) as session:
            products.update(session, small, view.id, _rows("c", 1), [])
        with pytest.raises(CatalogRejected), unit_of_work(small.session_factory) as session:
            products.update(session, small, view.id, _rows("a", 1), ["a:0"])
        with unit_of_work(small.session_factory) as session:
            assert sorted(products.items_of(session, view.id)) == ["a:0", "a:1", "a:2"]
            # Deleting makes room: the limit counts what the catalog holds after the change.
            done = products.update(session, small, view.id, _rows("c", 1), ["a:0"])
            assert done.total == 3 and done.created == 1 and done.deleted == 1

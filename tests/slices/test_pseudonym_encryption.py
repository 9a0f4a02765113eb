"""Pseudonyms are encryptions of the customer id she is shown, under each supplier's own key: they open
for their supplier only, resist tampering, never repeat across releases, and open to nothing once she is
erased."""

from __future__ import annotations

import base64
import re

import pytest

from infomediary.database import WriteSession, unit_of_work
from infomediary.flows import account_registered
from infomediary.pseudonyms import service as pseudonyms
from infomediary.runtime import Runtime
from tests.fixtures.actors import PASSWORD, make_supplier

SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def _customer(session: WriteSession, runtime: Runtime, email: str) -> str:
    return account_registered.register(session, runtime, email=email, password=PASSWORD).subject_id


def test_a_pseudonym_opens_for_its_supplier_only_and_each_release_is_unrelated(runtime: Runtime) -> None:
    with unit_of_work(runtime.session_factory) as session:
        _opens_for_its_supplier_only(session, runtime)


def _opens_for_its_supplier_only(session: WriteSession, runtime: Runtime) -> None:
    shop, rival = make_supplier(runtime).owner_id, make_supplier(runtime).owner_id
    her, him = _customer(session, runtime, "her@example.org"), _customer(session, runtime, "him@example.org")
    stable = pseudonyms.issue(session, runtime, shop, her).pseudonym
    first = pseudonyms.release_pseudonyms(runtime, shop, [her, him])
    second = pseudonyms.release_pseudonyms(runtime, shop, [her, him])
    values = [stable, *first.pseudonyms.values(), *second.pseudonyms.values()]
    assert all(SHAPE.fullmatch(v) for v in values) and len(set(values)) == len(values)
    assert pseudonyms.resolve_named(session, runtime, shop, stable) == pseudonyms.Resolved(her, False)
    assert pseudonyms.resolve_named(session, runtime, shop, first.pseudonyms[him]) == pseudonyms.Resolved(
        him, True
    )
    for value in values:
        with pytest.raises(pseudonyms.PseudonymUnknown):
            pseudonyms.resolve(session, runtime, rival, value)
    # Her stable pseudonym for the rival exists (it is a function of her id) but was never handed over.
    with pytest.raises(pseudonyms.PseudonymUnknown):
        pseudonyms.resolve(session, runtime, rival, pseudonyms.pseudonym(runtime, rival, her))


def test_a_tampered_pseudonym_is_unknown(runtime: Runtime) -> None:
    shop = make_supplier(runtime).owner_id
    with unit_of_work(runtime.session_factory) as session:
        her = _customer(session, runtime, "tamper@example.org")
        value = pseudonyms.release_pseudonyms(runtime, shop, [her]).pseudonyms[her]
        assert pseudonyms.resolve(session, runtime, shop, value) == her
        # Every byte, every bit: SIV authenticates the whole value.
        for position in range(32):
            for flip in (1, 0x80):
                raw = bytearray(base64.urlsafe_b64decode(value + "="))
                raw[position] ^= flip
                tampered = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
                with pytest.raises(pseudonyms.PseudonymUnknown):
                    pseudonyms.resolve(session, runtime, shop, tampered)


def test_an_erased_customers_pseudonyms_open_to_nothing(runtime: Runtime) -> None:
    shop = make_supplier(runtime).owner_id
    with unit_of_work(runtime.session_factory) as session:
        her = _customer(session, runtime, "gone@example.org")
        stable = pseudonyms.issue(session, runtime, shop, her).pseudonym
        released = pseudonyms.release_pseudonyms(runtime, shop, [her]).pseudonyms[her]
        assert pseudonyms.resolve(session, runtime, shop, stable) == her
        runtime.vault.shred(her)
        for value in (stable, released):
            with pytest.raises(pseudonyms.PseudonymUnknown):
                pseudonyms.resolve(session, runtime, shop, value)

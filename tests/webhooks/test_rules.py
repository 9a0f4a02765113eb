"""The pure rules of webhook delivery (signature, backoff, which URLs may receive), and the signing secrets'
wrapping across a key-encryption key rotation."""

from __future__ import annotations

import base64
import ipaddress
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infomediary import rotation
from infomediary.database import unit_of_work
from infomediary.flows import supplier_registered
from infomediary.runtime import Runtime
from infomediary.settings import Settings
from infomediary.webhooks import secret, service, signature
from infomediary.webhooks.delivery import backoff_seconds
from infomediary.webhooks.errors import WebhookUrlRefused
from infomediary.webhooks.models import WebhookEndpointRow
from infomediary.webhooks.urls import UrlPolicy, check, resolve_host, vet
from tests.fixtures.runtimes import reconfigured

PUBLIC = "93.184.215.14"


def test_signature_matches_the_standard_webhooks_example() -> None:
    # The example message of the Standard Webhooks specification, with its published signature.
    key = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    signed = signature.sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert signed == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@given(
    attempt=st.integers(min_value=1, max_value=30),
    base=st.floats(min_value=0, max_value=3600),
    cap=st.floats(min_value=0, max_value=86_400),
    draw=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_backoff_doubles_up_to_the_cap_with_jitter(
    attempt: int, base: float, cap: float, draw: float
) -> None:
    settings = Settings(webhook_backoff_base_seconds=base, webhook_backoff_max_seconds=cap)
    ceiling = min(base * 2 ** (attempt - 1), cap)
    wait = backoff_seconds(attempt, settings, lambda: draw)
    assert ceiling / 2 - 1e-9 <= wait <= ceiling + 1e-9


def _resolver(mapping: dict[str, list[str]]) -> Callable[[str, int], list[str]]:
    def resolve(host: str, port: int) -> list[str]:
        return mapping[host]

    return resolve


def test_the_resolver_keeps_the_systems_order_of_preference(monkeypatch: pytest.MonkeyPatch) -> None:
    def getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, port)),
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2606:4700:4700::1111", port, 0, 0)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    assert resolve_host("hooks.example.com", 443) == [PUBLIC, "2606:4700:4700::1111"]


def test_a_checked_url_gives_the_addresses_to_connect_to_in_order_once_each() -> None:
    answers = ["2606:4700:4700::1111", f"::ffff:{PUBLIC}", PUBLIC]
    target = vet("https://Hooks.Example.com/h", UrlPolicy(), _resolver({"hooks.example.com": answers}))
    assert target.host == "hooks.example.com"
    # The mapped answer is its IPv4 address, which was answered too: connected to as one address.
    assert target.addresses == (ipaddress.ip_address(answers[0]), ipaddress.ip_address(PUBLIC))


@pytest.mark.parametrize(
    "url",
    ["https://127.0.0.1/h", "http://localhost:8080/h", "https://[::1]/h", "https://api.localhost/h"],
)
def test_loopback_is_refused_unless_allowed(url: str) -> None:
    with pytest.raises(WebhookUrlRefused):
        check(url, UrlPolicy())
    assert check(url, UrlPolicy(allow_loopback=True)) == url


def test_a_name_is_judged_by_every_address_it_resolves_to() -> None:
    resolve = _resolver(
        {
            "hooks.example.com": [PUBLIC],
            "rebound.example.com": [PUBLIC, "10.1.2.3"],
            "meta": ["169.254.169.254"],
        }
    )
    assert check("https://hooks.example.com/h", UrlPolicy(), resolve)
    for url in ("https://rebound.example.com/h", "https://meta/latest"):
        with pytest.raises(WebhookUrlRefused, match="private, link-local"):
            check(url, UrlPolicy(), resolve)
    assert check("https://rebound.example.com/h", UrlPolicy(allow_private=True), resolve)
    with pytest.raises(WebhookUrlRefused, match="https"):
        check("http://hooks.example.com/h", UrlPolicy(allow_loopback=True, allow_private=True), resolve)


EMBEDS_NON_GLOBAL = {
    "2002:7f00:1::": "6to4 of 127.0.0.1",
    "::127.0.0.1": "IPv4-compatible 127.0.0.1",
    "64:ff9b::7f00:1": "NAT64 (RFC 6052) of 127.0.0.1",
    "64:ff9b::a9fe:a9fe": "NAT64 of the cloud metadata address 169.254.169.254",
    "2001:0:4136:e378:8000:63bf:80ff:fffe": "Teredo with client 127.0.0.1",
    "2001:0:4136:e378:8000:63bf:f5ff:fffe": "Teredo with client 10.0.0.1",
    "2001:0:a00:1:8000:63bf:f7f7:f7f7": "Teredo with server 10.0.0.1 (client 8.8.8.8)",
    "::ffff:127.0.0.1": "IPv4-mapped 127.0.0.1",
    "::ffff:0:7f00:1": "IPv4-translated (RFC 6145) 127.0.0.1",
    "::ffff:0:a9fe:a9fe": "IPv4-translated of the cloud metadata address",
    "64:ff9b:1::808:808": "local-use NAT64 (RFC 8215): the translator is in a private network",
}


@pytest.mark.parametrize("host", EMBEDS_NON_GLOBAL, ids=EMBEDS_NON_GLOBAL.values())
def test_an_ipv6_address_embedding_a_non_global_ipv4_address_is_refused(host: str) -> None:
    with pytest.raises(WebhookUrlRefused):
        check(f"https://[{host}]/hook", UrlPolicy())
    # Resolved from a name, the same address is refused the same way.
    with pytest.raises(WebhookUrlRefused):
        check("https://hooks.example.com/hook", UrlPolicy(), _resolver({"hooks.example.com": [PUBLIC, host]}))


@pytest.mark.parametrize(
    "host",
    ["2002:7f00:1::", "::127.0.0.1", "64:ff9b::7f00:1", "2001:0:4136:e378:8000:63bf:80ff:fffe"],
)
def test_a_relay_or_translator_never_counts_as_the_brokers_own_loopback(host: str) -> None:
    # Loopback and private addresses are allowed in development for the broker's own host; a 6to4 relay,
    # NAT64 translator or Teredo server would reach its own loopback instead.
    with pytest.raises(WebhookUrlRefused, match="embeds a non-global IPv4"):
        check(f"http://[{host}]/hook", UrlPolicy(allow_loopback=True, allow_private=True))


@pytest.mark.parametrize(
    "host",
    [
        "2606:4700:4700::1111",  # plain global IPv6
        "2002:808:808::",  # 6to4 of 8.8.8.8
        "64:ff9b::808:808",  # NAT64 of 8.8.8.8
        "::ffff:8.8.8.8",  # IPv4-mapped 8.8.8.8
    ],
)
def test_global_addresses_in_ipv6_forms_are_accepted(host: str) -> None:
    url = f"https://[{host}]/hook"
    assert check(url, UrlPolicy()) == url


NON_GLOBAL_IPV4 = [
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "240.0.0.0/4",
    )
]


@given(
    st.sampled_from(NON_GLOBAL_IPV4)
    .flatmap(lambda net: st.integers(0, net.num_addresses - 1).map(lambda i: net[i]))
    .filter(lambda v4: not v4.is_global)
)
def test_every_embedding_of_a_non_global_ipv4_address_is_refused(v4: ipaddress.IPv4Address) -> None:
    embeddings = {
        "mapped": ipaddress.IPv6Address(0xFFFF << 32 | int(v4)),
        "6to4": ipaddress.IPv6Address(0x2002 << 112 | int(v4) << 80),
        "NAT64": ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) | int(v4)),
    }
    for form, address in embeddings.items():
        with pytest.raises(WebhookUrlRefused):
            check(f"https://[{address}]/hook", UrlPolicy())
        if form != "mapped":  # a mapped address is the IPv4 address itself, so the allowances apply to it
            with pytest.raises(WebhookUrlRefused):
                check(f"https://[{address}]/hook", UrlPolicy(allow_loopback=True, allow_private=True))


@pytest.fixture
def own_keys_runtime(tmp_path: Path, runtime: Runtime) -> Runtime:
    """The test database with a key directory of its own, so rotating keys touches no other test."""
    other = reconfigured(runtime, keys_dir=tmp_path / "keys")
    other.keys.ensure()
    return other


def test_a_key_rotation_rewraps_webhook_secrets_before_retiring_the_old_key(
    own_keys_runtime: Runtime,
) -> None:
    rt = own_keys_runtime
    with unit_of_work(rt.session_factory) as session:
        view, _ = supplier_registered.register_supplier(session, name="Hooked", scopes=["events:subscribe"])
        created = service.create(
            session, rt, view.id, url=f"https://{PUBLIC}/h", event_types=["offer.accepted"]
        )
    shown = base64.b64decode(created.secret.removeprefix("whsec_"))
    old = rt.vault.provider.current_version()
    rotation.add_version(rt)
    assert rotation.retire_unused(rt) == []  # the secret still uses the old version
    assert rotation.rewrap(rt) == 1
    assert rotation.retire_unused(rt) == [old]
    with unit_of_work(rt.read_session_factory) as session:
        row = session.get(WebhookEndpointRow, created.endpoint.id)
        assert row is not None and row.kek_version > old
        assert secret.open_secret(rt, row) == shown

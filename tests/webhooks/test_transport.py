"""The way out to a receiver (`webhooks.transport`): one lookup per request, checked, and the connection made
to the address that lookup gave, whatever the name resolves to a moment later; the receiver and TLS still
see the name."""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from infomediary.settings import Settings
from infomediary.webhooks.delivery import new_client
from infomediary.webhooks.errors import WebhookUrlRefused
from infomediary.webhooks.transport import VettedTransport
from infomediary.webhooks.urls import MAX_URL_LENGTH, UrlPolicy, check
from tests.fixtures.network import Dns, loopback_only, loopback_receiver

PUBLIC = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"
NAME = "hooks.example.com"


def _answering(*addresses: str) -> tuple[list[str], VettedTransport, list[httpx.Request]]:
    """A transport whose resolver answers `addresses` for any name, and whose network records requests."""
    lookups: list[str] = []
    sent: list[httpx.Request] = []

    def resolve(host: str, port: int) -> list[str]:
        lookups.append(host)
        return list(addresses)

    def network(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(204)

    return lookups, VettedTransport(UrlPolicy(), httpx.MockTransport(network), resolve), sent


def test_a_name_rebound_after_its_check_does_not_lead_the_connection_to_loopback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked = loopback_only(monkeypatch)
    dns = Dns(monkeypatch, NAME, PUBLIC, "127.0.0.1")  # a public address first, loopback from then on
    with loopback_receiver() as listener:
        url = f"https://{NAME}:{listener.port}/hooks"
        # The rig catches what it is meant to: checked, then connected by name, the request reaches loopback.
        check(url, UrlPolicy())
        with httpx.Client(trust_env=False) as unpinned, pytest.raises(httpx.ConnectError):
            unpinned.post(url, content=b"{}")  # TLS fails, but only after connecting to the listener
        assert listener.connections == 1 and asked == ["127.0.0.1"]

        dns.answers, dns.lookups, asked[:] = [PUBLIC, "127.0.0.1"], 0, []
        with new_client(Settings()) as client, pytest.raises(httpx.ConnectError):
            client.post(url, content=b"{}")
        assert dns.lookups == 1  # the check's lookup is the only one
        assert asked == [PUBLIC]  # and the only connection went to the address it passed
        assert listener.connections == 1  # so nothing more arrived on loopback


def test_a_vetted_request_reaches_its_receiver_under_the_name(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = loopback_only(monkeypatch)
    dns = Dns(monkeypatch, NAME, "127.0.0.1")
    settings = Settings(webhook_allow_loopback=True)
    with loopback_receiver() as listener, new_client(settings) as client:
        response = client.post(f"http://{NAME}:{listener.port}/hooks?x=1", content=b'{"a":1}')
    assert response.status_code == 204
    [received] = listener.requests
    assert received.headers["host"] == f"{NAME}:{listener.port}"
    assert (received.path, received.body) == ("/hooks?x=1", b'{"a":1}')
    assert dns.lookups == 1 and asked == ["127.0.0.1"]


@pytest.mark.parametrize(("address", "netloc"), [(PUBLIC, PUBLIC), (PUBLIC_V6, f"[{PUBLIC_V6}]")])
def test_the_request_goes_to_the_address_and_names_the_host_to_the_receiver_and_to_tls(
    address: str, netloc: str
) -> None:
    lookups, transport, sent = _answering(address)
    with httpx.Client(transport=transport) as client:
        assert client.post(f"https://{NAME}:8443/hooks", content=b"{}").status_code == 204
    [request] = sent
    assert str(request.url) == f"https://{netloc}:8443/hooks"
    assert request.headers["host"] == f"{NAME}:8443"
    assert request.extensions["sni_hostname"] == NAME  # the certificate is checked against the name
    assert request.content == b"{}"
    assert lookups == [NAME]


@pytest.mark.parametrize(
    "answers", [["169.254.169.254"], [PUBLIC, "10.1.2.3"], ["127.0.0.1"], ["64:ff9b::7f00:1"]]
)
def test_a_refused_answer_sends_nothing(answers: list[str]) -> None:
    _, transport, sent = _answering(*answers)
    with httpx.Client(transport=transport) as client, pytest.raises(WebhookUrlRefused):
        client.post(f"https://{NAME}/hooks", content=b"{}")
    assert sent == []


def test_the_length_bound_is_on_the_url_registered_not_on_its_percent_encoded_form() -> None:
    url = f"https://{NAME}/{'é' * 1000}"
    assert len(url) < MAX_URL_LENGTH < len(str(httpx.URL(url)))
    check(url, UrlPolicy(), lambda host, port: [PUBLIC])
    _, transport, sent = _answering(PUBLIC)
    with httpx.Client(transport=transport) as client:
        assert client.post(url, content=b"{}").status_code == 204
    assert len(sent) == 1


def test_an_unreachable_address_falls_back_once_to_the_other_ip_version() -> None:
    tried: list[str] = []

    def unreachable(request: httpx.Request) -> httpx.Response:
        tried.append(request.url.host)
        raise httpx.ConnectError("unreachable", request=request)

    transport = VettedTransport(
        UrlPolicy(), httpx.MockTransport(unreachable), lambda host, port: [PUBLIC_V6, PUBLIC, "8.8.8.8"]
    )
    with httpx.Client(transport=transport) as client, pytest.raises(httpx.ConnectError):
        client.post(f"https://{NAME}/hooks", content=b"{}")
    assert tried == [PUBLIC_V6, PUBLIC]  # at most one address of each version: a bounded wait


def test_redirects_are_not_followed() -> None:
    seen: list[str] = []

    def redirecting(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(307, headers={"location": "http://127.0.0.1:9/admin"})

    with new_client(Settings(), httpx.MockTransport(redirecting)) as client:
        assert client.post(f"https://{PUBLIC}/hooks", content=b"{}").status_code == 307
    assert seen == [f"https://{PUBLIC}/hooks"]


def test_a_proxy_in_the_environment_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = loopback_only(monkeypatch)
    Dns(monkeypatch, NAME, PUBLIC)
    with loopback_receiver() as proxy:
        for variable in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"):
            monkeypatch.setenv(variable, f"http://127.0.0.1:{proxy.port}")
        with new_client(Settings()) as client, pytest.raises(httpx.ConnectError):
            client.post(f"https://{NAME}/hooks", content=b"{}")
    assert proxy.connections == 0 and asked == [PUBLIC]


# TLS with a certificate for the name, served on loopback: the handshake must name it and verify it.


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A CA and a certificate it issued for NAME only: (CA certificate, certificate, key) as PEM files."""
    directory = tmp_path_factory.mktemp("tls")
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "leaf.pem", directory / "leaf.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


@pytest.mark.parametrize(("name", "accepted"), [(NAME, True), ("other.example.com", False)])
def test_tls_names_the_host_and_verifies_the_certificate_against_it(
    certificate: tuple[Path, Path, Path], name: str, accepted: bool
) -> None:
    ca, leaf, key = certificate
    served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    served.load_cert_chain(leaf, key)
    trusting = ssl.create_default_context(cafile=str(ca))
    network = httpx.HTTPTransport(verify=trusting)
    # Loopback allowed: the test's receiver stands where a public one would (every address answered is
    # loopback here, so https to it passes the check like a public address does).
    transport = VettedTransport(UrlPolicy(allow_loopback=True), network, lambda host, port: ["127.0.0.1"])
    with loopback_receiver(served) as listener, httpx.Client(transport=transport) as client:
        url = f"https://{name}:{listener.port}/hooks"
        if accepted:
            assert client.post(url, content=b"{}").status_code == 204
            assert listener.requests[0].headers["host"] == f"{name}:{listener.port}"
        else:
            # Connected to the right address, but the certificate is not for this name: refused.
            with pytest.raises(httpx.ConnectError, match=f"certificate is not valid for '{name}'"):
                client.post(url, content=b"{}")
            assert listener.requests == []
    assert listener.server_names == [name]  # the name, not the address, was sent as the server name

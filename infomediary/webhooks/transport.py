"""The way out to a receiver: a request connects to an address its URL's check passed, and to no other.

Checking a URL and then letting httpx connect to it would resolve the name twice. An answer that changes in
between (DNS rebinding: a zero TTL is enough) would take a request whose check saw a public address to
127.0.0.1 or to the cloud metadata service at 169.254.169.254. So each request's name is resolved once,
here, every address judged (`urls.vet`), and the request handed on with its URL's host replaced by an
address that passed: httpcore then opens a socket to that address and resolves nothing.

The name stays where the receiver and TLS need it: in the Host header, and as the TLS server name (httpcore's
`sni_hostname` request extension), which is also the name the certificate is verified against, so an https
receiver still has to prove it is the name, not just that it answers at the address.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from infomediary.webhooks import urls


def real_network() -> httpx.HTTPTransport:
    """The real network, keeping no connection open after its response."""
    # Pooled connections are keyed by the URL's host, which is the address here: a second receiver name at
    # the same address would be sent over a TLS session whose certificate was checked for the first name.
    # Without keep-alive each request also connects afresh, to the address vetted for it. (The transport's
    # `trust_env` reads only CA bundles: whom TLS trusts, not where a request goes.)
    return httpx.HTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))


class VettedTransport(httpx.BaseTransport):
    """Vets every request's URL under `policy` and sends it on to `network` pinned to an address that passed.

    A refused URL raises `WebhookUrlRefused` before anything is sent. `network` is the real one unless a test
    stands a receiver in for it; `resolve` is the system resolver unless a test answers for it.
    """

    def __init__(
        self,
        policy: urls.UrlPolicy,
        network: httpx.BaseTransport | None = None,
        resolve: urls.Resolver = urls.resolve_host,
    ) -> None:
        self._policy = policy
        self._network = network if network is not None else real_network()
        self._resolve = resolve

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        target = urls.vet(str(request.url), self._policy, self._resolve)
        *fallbacks, last = _tried(target.addresses)
        for address in fallbacks:
            try:
                return self._network.handle_request(_pinned(request, address, target.host))
            except httpx.ConnectError:
                # Raised before any of the request is written (no connection, or no TLS session): the
                # next address is a first try, not a resend.
                continue
        return self._network.handle_request(_pinned(request, last, target.host))

    def close(self) -> None:
        self._network.close()


def _tried(addresses: Sequence[urls.IPAddress]) -> list[urls.IPAddress]:
    """The first address, then the first of the other IP version if any.

    A receiver whose IPv6 (or IPv4) address is unreachable from here is still reached, and a name that
    resolves to many addresses costs at most two connection attempts.
    """
    first = addresses[0]
    other = next((a for a in addresses if a.version != first.version), None)
    return [first] if other is None else [first, other]


def _pinned(request: httpx.Request, address: urls.IPAddress, host: str) -> httpx.Request:
    # The request was built from the URL as given, so its Host header already names the host.
    return httpx.Request(
        request.method,
        request.url.copy_with(host=str(address)),
        headers=request.headers,
        stream=request.stream,
        extensions={**request.extensions, "sni_hostname": host},
    )

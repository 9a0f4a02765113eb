"""The log-in form's `next` target: whatever is sent, the redirect stays on this site."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from hypothesis import given
from hypothesis import strategies as st

from api.pages.auth import safe_next

BASE = "http://127.0.0.1:8000/login"


@given(st.text(max_size=80) | st.from_regex(r"[/\\]{1,3}[a-z.]{1,20}(/[a-z]{0,5})?", fullmatch=True))
def test_any_next_value_resolves_to_this_site(value: str) -> None:
    target = safe_next(value)
    resolved = urlsplit(urljoin(BASE, target))
    assert resolved.netloc == "127.0.0.1:8000"
    assert not any(c.isspace() or c == "\\" for c in target)


def test_plain_local_paths_are_kept() -> None:
    assert safe_next("/consents?notice=x") == "/consents?notice=x"
    assert safe_next(None) == "/"

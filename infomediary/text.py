"""Free text from outside (a title, a reason, a finding, a URL): any character but NUL, which PostgreSQL
refuses in text columns. Checked at the edge so that such text is a 422, not a failed query (and the same
answer on SQLite, which would store it)."""

from __future__ import annotations

NO_NUL = r"^[^\x00]*$"

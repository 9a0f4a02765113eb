"""Text from outside, as patterns checked at the edge. Free text (a title, a reason, a finding, a URL, an
offer's content, a rule's name): any character but NUL, which PostgreSQL refuses in text columns, so such
text is a 422, not a failed query (and the same answer on SQLite, which would store it). Cursors and filter
keys: the only characters they can hold."""

from __future__ import annotations

NO_NUL = r"^[^\x00]*$"
# An opaque token from a previous answer (a paging cursor: an id, an item reference, a time and an id):
# printable ASCII, as every cursor the service hands out is; anything else cannot be one, so it is a 422.
OPAQUE = r"^[\x21-\x7e]*$"
# A vocabulary key used as a filter (a purpose, a log entry kind): lower-case letters, digits, `_`, `.`, `-`;
# empty for no filter (a form's blank select).
VOCABULARY_KEY = r"^[a-z0-9_.-]*$"

"""Text and numbers from outside: the types every input is declared with, at the edge (request bodies, query,
path, header and form parameters) and in the domain's own input models (profile fields, activity records,
catalog rows). Every string has a maximum length and a pattern that refuses NUL, which PostgreSQL refuses in
text columns: such text is a 422, not a failed query (and the same answer on SQLite, which would store it).
Every integer has a lower and an upper bound, so that no input overflows a bigint column or a sum of them.

A field with a tighter bound narrows the type where it is used, `Annotated[Line, Field(max_length=100)]`, and
keeps its pattern; a field with a stricter pattern of its own (a currency code, a phone number) keeps that and
gives a maximum length with it. `tests/api/test_text_bounds.py` reads the OpenAPI document and fails on any
input without a bound.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

# -- patterns ----------------------------------------------------------------------------------------------

# Free text over several lines (an offer's content, an auditor's finding): any character but NUL.
NO_NUL = r"^[^\x00]*$"
# One line (a title, a rule's name, a URL): no control character at all, so no line break either.
ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
# An opaque token from a previous answer (a paging cursor: an id, an item reference, a time and an id) or a
# client's idempotency key: printable ASCII, as every cursor the service hands out is; anything else cannot
# be one, so it is a 422.
OPAQUE = r"^[\x21-\x7e]*$"
# A vocabulary key (a purpose, a log entry kind, a profile field): lower-case letters, digits, `_`, `.`, `-`;
# empty for no filter (a form's blank select).
VOCABULARY_KEY = r"^[a-z0-9_.-]*$"
# What every id looks like from outside (`infomediary.ids.new_id`; pseudonyms are base64url).
ID = r"^[A-Za-z0-9_-]+$"
# A row's number as text (a paging cursor): decimal digits.
DIGITS = r"^[0-9]+$"

# -- bounds ------------------------------------------------------------------------------------------------

LINE_LENGTH = 200
TEXT_LENGTH = 10_000
OPAQUE_LENGTH = 200
KEY_LENGTH = 64
ID_LENGTH = 40
PSEUDONYM_LENGTH = 64
# argon2 hashes any length; the bound only keeps a request from making it hash megabytes.
SECRET_LENGTH = 256

# The largest count or index an input may name: PostgreSQL's bigint holds 2**63 - 1, and an input plus one
# (the next page, a tree size) must still fit.
MAX_INDEX = 2**62
# The ids of serial (32-bit) and bigserial (64-bit) columns: a number past its column's range is no row's id,
# and PostgreSQL fails the query that compares it with the column.
MAX_SERIAL = 2**31 - 1
MAX_BIGSERIAL = 2**63 - 1
MAX_CREDITS = 1_000_000_000
# Money in a currency's minor unit (cents): ten billion whole units, more than any order or catalog price.
MAX_MINOR_UNITS = 10**12

# -- text --------------------------------------------------------------------------------------------------

Line = Annotated[str, StringConstraints(max_length=LINE_LENGTH, pattern=ONE_LINE)]
"""One line of text: a title, a label, a URL."""

Text = Annotated[str, StringConstraints(max_length=TEXT_LENGTH, pattern=NO_NUL)]
"""Free text, line breaks allowed: content a person reads."""

Opaque = Annotated[str, StringConstraints(max_length=OPAQUE_LENGTH, pattern=OPAQUE)]
"""A token the service handed out (a cursor) or a client's own key: printable ASCII."""

Key = Annotated[str, StringConstraints(max_length=KEY_LENGTH, pattern=VOCABULARY_KEY)]
"""A key of the service's vocabulary, or empty."""

Id = Annotated[str, StringConstraints(min_length=1, max_length=ID_LENGTH, pattern=ID)]
"""An object's id (`offer_...`, `sup_...`)."""

Pseudonym = Annotated[str, StringConstraints(min_length=1, max_length=PSEUDONYM_LENGTH, pattern=ID)]
"""A customer as one supplier knows her."""

Secret = Annotated[str, StringConstraints(min_length=1, max_length=SECRET_LENGTH, pattern=NO_NUL)]
"""A password as typed: only its hash is kept, but it is bounded and NUL-free like any text."""


def _at_most(limit: int) -> AfterValidator:
    def check(value: str) -> str:
        if int(value) > limit:
            raise ValueError(f"must be at most {limit}")
        return value

    return AfterValidator(check)


SerialId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=len(str(MAX_SERIAL)), pattern=DIGITS),
    _at_most(MAX_SERIAL),
]
"""The id of a row of a serial column in decimal, as a paging cursor carries it."""

BigSerialId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=len(str(MAX_BIGSERIAL)), pattern=DIGITS),
    _at_most(MAX_BIGSERIAL),
]
"""The id of a row of a bigserial column in decimal, as a paging cursor carries it."""

# -- numbers -----------------------------------------------------------------------------------------------

Index = Annotated[int, Field(ge=0, le=MAX_INDEX)]
"""A position or a count (a log leaf, a tree size)."""

Credits = Annotated[int, Field(ge=0, le=MAX_CREDITS)]
"""A price or reward in credits."""

MinorUnits = Annotated[int, Field(ge=0, le=MAX_MINOR_UNITS)]
"""An amount of money in the currency's minor unit."""

"""Known answers for ciphertext format 1: fixed key, nonce and context give these exact bytes.

Every stored profile field is in this format, so any change to the associated data (its label, the order of
its parts, their length prefixes, the text encoding, the width of the schema version) or to the layout would
make the existing data unreadable. The round-trip tests cannot see such a change, because sealing and opening
would change together; these vectors are written out by hand from the format's description and do see it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

import vault.envelope
from vault.envelope import SubjectCipher, field_aad


@dataclass(frozen=True)
class Vector:
    data_key: bytes
    nonce: bytes
    subject_id: str
    field: str
    schema_version: int
    plaintext: bytes
    # The associated data the format byte and the field are sealed under, spelled out part by part.
    associated_data: bytes
    # AES-256-GCM output: the encrypted plaintext followed by the 16-byte tag.
    body: bytes


VECTORS = [
    Vector(
        data_key=bytes(range(32)),
        nonce=bytes.fromhex("000102030405060708090a0b"),
        subject_id="cust-0001",
        field="email",
        schema_version=1,
        plaintext=b"alice@example.org",
        associated_data=b"".join(
            [
                b"\x01",  # the format byte; then each part as its length in 4 big-endian bytes and itself
                b"\x00\x00\x00\x1a",
                b"infomediary.vault.field.v1",
                b"\x00\x00\x00\x09",
                b"cust-0001",
                b"\x00\x00\x00\x05",
                b"email",
                b"\x00\x00\x00\x04",
                b"\x00\x00\x00\x01",  # the schema version, itself 4 big-endian bytes
            ]
        ),
        body=bytes.fromhex("266ebf78a0a5a763ec2ce7e7d4c7171fe4e5d8a58da9f9d39c6a8030f1f7d9688e"),
    ),
    Vector(
        # Non-ASCII names: the lengths count UTF-8 bytes, not characters; the largest schema version.
        data_key=b"\xff" * 32,
        nonce=bytes.fromhex("cafebabefacedbaddecaf888"),
        subject_id="clé-7",
        field="prénom",
        schema_version=2**32 - 1,
        plaintext=b"",
        associated_data=b"".join(
            [
                b"\x01",
                b"\x00\x00\x00\x1a",
                b"infomediary.vault.field.v1",
                b"\x00\x00\x00\x06",
                b"cl\xc3\xa9-7",
                b"\x00\x00\x00\x07",
                b"pr\xc3\xa9nom",
                b"\x00\x00\x00\x04",
                b"\xff\xff\xff\xff",
            ]
        ),
        body=bytes.fromhex("be9e4be662a464c592d633a7b92e6f41"),
    ),
]


@pytest.fixture(params=VECTORS, ids=["ascii", "utf-8-and-largest-version"])
def vector(request: pytest.FixtureRequest) -> Vector:
    vector: Vector = request.param
    return vector


def test_field_associated_data_is_the_documented_bytes(vector: Vector) -> None:
    # field_aad() is the associated data without the format byte, which seal() prepends.
    expected = vector.associated_data
    assert expected[:1] == b"\x01"
    assert field_aad(vector.subject_id, vector.field, vector.schema_version) == expected[1:]


def test_seal_with_a_fixed_nonce_gives_the_known_ciphertext(
    vector: Vector, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The nonce is the only randomness; fix it to compare whole ciphertexts.
    monkeypatch.setattr(vault.envelope, "urandom", lambda size: vector.nonce[:size])
    sealed = SubjectCipher(vector.subject_id, vector.data_key).seal(
        vector.field, vector.plaintext, vector.schema_version
    )
    assert sealed == b"\x01" + vector.nonce + vector.body


def test_the_known_ciphertext_opens_to_its_plaintext(vector: Vector) -> None:
    # Data written by earlier releases must stay readable.
    stored = b"\x01" + vector.nonce + vector.body
    cipher = SubjectCipher(vector.subject_id, vector.data_key)
    assert cipher.open(vector.field, stored, vector.schema_version) == vector.plaintext

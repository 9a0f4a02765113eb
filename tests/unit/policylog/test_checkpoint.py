"""Signed-note and checkpoint tests, including published vectors.

Published vectors used:
  * golang.org/x/mod sumdb/note ``note_test.go`` (github.com/golang/mod,
    TestSign / TestOpen / TestNewVerifier): the PeterNeumann and EnochRoot keys
    and the exact signed note produced from the PeterNeumann private key.
  * sigsum-go ``pkg/checkpoint`` test ``TestGoSumDBCheckpoint``: a real
    sum.golang.org checkpoint "retrieved from https://sum.golang.org/latest,
    2024-09-23", with the sum.golang.org verifier key from Go's
    src/cmd/go/internal/modfetch/key.go.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from infomediary.policylog.checkpoint import (
    MAX_SIGNATURES,
    Checkpoint,
    format_checkpoint,
    key_id,
    open_checkpoint,
    parse_checkpoint,
    parse_verifier_key,
    sign_note,
    verifier_key_string,
    verify_note,
)
from infomediary.policylog.errors import CheckpointError

# --- golang.org/x/mod/sumdb/note vectors -------------------------------------
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
NOTE_TEXT = (
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
)
PETER_SIG = (
    "\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "\u2014 EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)

# --- sum.golang.org checkpoint (via sigsum-go TestGoSumDBCheckpoint) ---------
SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_NOTE = (
    "go.sum database tree\n"
    "30055305\n"
    "mXfgRcJ0bG0j3CPdKwgGWtUzBUbX67saZGRmFuJGGsM=\n"
    "\n"
    "\u2014 sum.golang.org "
    "Az3grpgEild5qw7+5dtV13Kf1C2Xurm8q4fhdxvcsDHnqNTaxL2AFjBY+2TyGKevucFcAAlWFJJYle3EJlDCrQ+y3A8=\n"
)


def _peter_private_key() -> Ed25519PrivateKey:
    material = base64.b64decode(PETER_SKEY.split("+", 4)[4])
    assert material[0] == 0x01
    return Ed25519PrivateKey.from_private_bytes(material[1:])


@pytest.fixture(scope="module")
def log_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _checkpoint(size: int = 42, extensions: tuple[str, ...] = ()) -> Checkpoint:
    return Checkpoint("example.com/policylog", size, hashlib.sha256(b"root").digest(), extensions)


# --- published vectors -------------------------------------------------------


def test_go_note_sign_reproduces_published_note_byte_for_byte() -> None:
    key = _peter_private_key()
    assert verifier_key_string("PeterNeumann", key.public_key()) == PETER_VKEY
    assert sign_note(NOTE_TEXT, "PeterNeumann", key) == NOTE_TEXT + "\n" + PETER_SIG


def test_go_note_verifies_with_each_known_key() -> None:
    note = NOTE_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert verify_note(note, PETER_VKEY) == NOTE_TEXT
    assert verify_note(note, ENOCH_VKEY) == NOTE_TEXT
    with pytest.raises(CheckpointError, match="no signature by key"):
        verify_note(NOTE_TEXT + "\n" + PETER_SIG, ENOCH_VKEY)


def test_go_note_invalid_signature_for_known_key() -> None:
    # From TestOpen: four base64 characters spliced into Peter's signature.
    bad = NOTE_TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(CheckpointError, match="invalid signature"):
        verify_note(bad, PETER_VKEY)


@pytest.mark.parametrize(
    "msg",
    [
        NOTE_TEXT,
        NOTE_TEXT + "\n",
        NOTE_TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + NOTE_TEXT + "\n" + PETER_SIG,
        NOTE_TEXT + "\n" + "\u2014 Bad Name " + PETER_SIG.split(" ")[-1],
        NOTE_TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        NOTE_TEXT + "\n" + PETER_SIG * (MAX_SIGNATURES + 1),
    ],
)
def test_go_note_malformed_messages(msg: str) -> None:
    with pytest.raises(CheckpointError):
        verify_note(msg, PETER_VKEY)


def test_go_note_invalid_utf8_bytes_rejected() -> None:
    with pytest.raises(CheckpointError, match="UTF-8"):
        verify_note(b"\xff" + (NOTE_TEXT + "\n" + PETER_SIG).encode(), PETER_VKEY)


def test_published_sumdb_checkpoint_verifies_and_parses() -> None:
    cp = open_checkpoint(SUMDB_NOTE, SUMDB_VKEY, "go.sum database tree")
    assert cp.size == 30055305
    assert cp.root_hash == base64.b64decode("mXfgRcJ0bG0j3CPdKwgGWtUzBUbX67saZGRmFuJGGsM=")
    assert cp.extensions == ()
    assert format_checkpoint(cp) == SUMDB_NOTE.split("\n\n")[0] + "\n"
    with pytest.raises(CheckpointError, match="origin"):
        open_checkpoint(SUMDB_NOTE, SUMDB_VKEY, "example.com/other")
    with pytest.raises(CheckpointError):
        open_checkpoint(SUMDB_NOTE.replace("30055305", "30055306"), SUMDB_VKEY, "go.sum database tree")


# --- verifier keys -----------------------------------------------------------


def test_key_id_is_hand_derivable(log_key: Ed25519PrivateKey) -> None:
    pub = log_key.public_key()
    raw = pub.public_bytes(Encoding.Raw, PublicFormat.Raw)
    expected = hashlib.sha256(b"example.com/policylog\n\x01" + raw).digest()[:4]
    assert key_id("example.com/policylog", pub) == expected
    vkey = verifier_key_string("example.com/policylog", pub)
    encoded = base64.b64encode(b"\x01" + raw).decode()
    assert vkey == f"example.com/policylog+{expected.hex()}+{encoded}"
    parsed = parse_verifier_key(vkey)
    assert (parsed.name, parsed.key_id) == ("example.com/policylog", expected)


def test_go_verifier_key_manglings_rejected() -> None:
    # TestNewVerifier: every proper substring and every single-byte increment must fail.
    parse_verifier_key(PETER_VKEY)
    b = PETER_VKEY.encode()
    bad = {b[i:j] for i in range(len(b) + 1) for j in range(i + 1, len(b) + 1) if (i, j) != (0, len(b))}
    bad |= {b[:i] + bytes([b[i] + 1]) + b[i + 1 :] for i in range(len(b))}
    bad.add(b"PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")
    bad.add(b"PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
    for candidate in sorted(bad):
        with pytest.raises(CheckpointError):
            parse_verifier_key(candidate.decode("utf-8", "replace"))


# --- checkpoint body -----------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    origin=st.text(st.characters(min_codepoint=0x20, exclude_categories=["Cs"]), min_size=1, max_size=40),
    size=st.integers(0, 2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(
        st.text(st.characters(min_codepoint=0x20, exclude_categories=["Cs"]), min_size=1), max_size=3
    ),
)
def test_format_parse_round_trip(origin: str, size: int, root: bytes, extensions: list[str]) -> None:
    cp = Checkpoint(origin, size, root, tuple(extensions))
    text = format_checkpoint(cp)
    assert parse_checkpoint(text) == cp
    assert format_checkpoint(parse_checkpoint(text)) == text


def test_format_exact_layout() -> None:
    root = bytes(range(32))
    text = format_checkpoint(Checkpoint("example.com/log", 10, root, ("ext one",)))
    assert text == f"example.com/log\n10\n{base64.b64encode(root).decode()}\next one\n"


ROOT_B64 = base64.b64encode(bytes(32)).decode()
URLSAFE_ROOT = base64.urlsafe_b64encode(b"\xff" * 32).decode()


@pytest.mark.parametrize(
    "text",
    [
        "",
        f"origin\n10\n{ROOT_B64}",  # no final newline
        "origin\n10\n",  # no root
        f"\n10\n{ROOT_B64}\n",  # empty origin
        f"origin\n010\n{ROOT_B64}\n",  # leading zero
        f"origin\n+10\n{ROOT_B64}\n",
        f"origin\n 10\n{ROOT_B64}\n",
        f"origin\n\u0661\n{ROOT_B64}\n",  # Arabic-Indic digit one
        f"origin\n{2**64}\n{ROOT_B64}\n",
        f"origin\n10\n{ROOT_B64[:-1]}\n",  # unpadded
        f"origin\n10\n{base64.b64encode(bytes(31)).decode()}\n",  # wrong length
        f"origin\n10\n{URLSAFE_ROOT}\n",  # URL alphabet
        "origin\n10\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n",  # non-zero trailing bits
        f"origin\n10\n{ROOT_B64}\n\n",  # empty extension line
        f"origin\n10\n{ROOT_B64}\r\n",
        f"ori\tgin\n10\n{ROOT_B64}\n",
    ],
)
def test_parse_checkpoint_is_strict(text: str) -> None:
    with pytest.raises(CheckpointError):
        parse_checkpoint(text)


@pytest.mark.parametrize(
    "cp",
    [
        Checkpoint("", 1, bytes(32)),
        Checkpoint("a\nb", 1, bytes(32)),
        Checkpoint("o", -1, bytes(32)),
        Checkpoint("o", 2**64, bytes(32)),
        Checkpoint("o", 1, bytes(31)),
        Checkpoint("o", 1, bytes(32), ("",)),
        Checkpoint("o", 1, bytes(32), ("a\nb",)),
        Checkpoint("o", 1, bytes(32), ("\ud800",)),  # lone surrogate: not encodable as UTF-8
    ],
)
def test_format_checkpoint_rejects_bad_fields(cp: Checkpoint) -> None:
    with pytest.raises(CheckpointError):
        format_checkpoint(cp)


# --- signing round trip and tampering ----------------------------------------


def test_sign_open_round_trip(log_key: Ed25519PrivateKey) -> None:
    name = "example.com/policylog"
    cp = _checkpoint(extensions=("witness-hint x",))
    note = sign_note(format_checkpoint(cp), name, log_key)
    assert open_checkpoint(note, verifier_key_string(name, log_key.public_key()), name) == cp
    # A parsed VerifierKey works as well as the string.
    assert verify_note(note, parse_verifier_key(verifier_key_string(name, log_key.public_key())))


def test_every_single_byte_change_is_rejected(log_key: Ed25519PrivateKey) -> None:
    name = "example.com/policylog"
    vkey = verifier_key_string(name, log_key.public_key())
    note = sign_note(format_checkpoint(_checkpoint()), name, log_key).encode()
    verify_note(note, vkey)
    for i in range(len(note)):
        for bit in (0x01, 0x20):
            tampered = note[:i] + bytes([note[i] ^ bit]) + note[i + 1 :]
            with pytest.raises(CheckpointError):
                verify_note(tampered, vkey)


def test_wrong_key_is_rejected(log_key: Ed25519PrivateKey) -> None:
    name = "example.com/policylog"
    note = sign_note(format_checkpoint(_checkpoint()), name, log_key)
    other = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(CheckpointError, match="no signature by key"):
        verify_note(note, verifier_key_string(name, other))  # same name, other key -> other key id
    with pytest.raises(CheckpointError, match="no signature by key"):
        verify_note(note, verifier_key_string("other.example/log", log_key.public_key()))


def test_forged_signature_with_right_key_id_is_rejected(log_key: Ed25519PrivateKey) -> None:
    # An attacker can copy our key id; only the Ed25519 signature stops them.
    name = "example.com/policylog"
    text = format_checkpoint(_checkpoint())
    attacker = Ed25519PrivateKey.generate()
    forged_sig = key_id(name, log_key.public_key()) + attacker.sign(text.encode())
    note = f"{text}\n\u2014 {name} {base64.b64encode(forged_sig).decode()}\n"
    with pytest.raises(CheckpointError, match="invalid signature"):
        verify_note(note, verifier_key_string(name, log_key.public_key()))


def test_cosigned_note_verifies_for_each_signer(log_key: Ed25519PrivateKey) -> None:
    text = format_checkpoint(_checkpoint())
    witness = Ed25519PrivateKey.generate()
    log_note = sign_note(text, "example.com/policylog", log_key)
    witness_line = sign_note(text, "witness.example", witness).split("\n\n")[-1]
    note = log_note + witness_line
    verify_note(note, verifier_key_string("example.com/policylog", log_key.public_key()))
    verify_note(note, verifier_key_string("witness.example", witness.public_key()))


@pytest.mark.parametrize("text", ["", "no newline", "bad\x00char\n"])
def test_sign_rejects_bad_text(log_key: Ed25519PrivateKey, text: str) -> None:
    with pytest.raises(CheckpointError):
        sign_note(text, "example.com/policylog", log_key)


@pytest.mark.parametrize("name", ["", "has space", "has+plus", "tab\there", "nbsp\u00a0here"])
def test_sign_rejects_bad_names(log_key: Ed25519PrivateKey, name: str) -> None:
    with pytest.raises(CheckpointError, match="key name"):
        sign_note("text\n", name, log_key)

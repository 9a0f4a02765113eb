"""C2SP signed notes and transparency-log checkpoints, with Ed25519 keys.

Formats implemented (https://c2sp.org/signed-note, https://c2sp.org/tlog-checkpoint):

* checkpoint body: ``<origin>\\n<decimal size>\\n<base64 root hash>\\n[<extension>\\n]*``
* signed note: ``<text>\\n`` followed by one line per signature,
  ``\u2014 <key name> <base64(4-byte key id || signature)>\\n``
* Ed25519 key id: ``SHA-256(<key name> || "\\n" || 0x01 || <32-byte public key>)[:4]``
* verifier key: ``<name>+<8 hex key id>+<base64(0x01 || public key)>``

Parsing is strict on purpose: a checkpoint is what witnesses and clients
compare byte-for-byte, so any second spelling of the same tree head (leading
zeros, non-canonical base64, stray whitespace) is rejected rather than
normalised.  The safe entry point for consumers is ``open_checkpoint``, which
verifies the signature *before* trusting any field and then checks the origin.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from infomediary.policylog.errors import CheckpointError

__all__ = [
    "MAX_SIGNATURES",
    "Checkpoint",
    "VerifierKey",
    "format_checkpoint",
    "key_id",
    "open_checkpoint",
    "parse_checkpoint",
    "parse_verifier_key",
    "sign_note",
    "verifier_key_string",
    "verify_note",
]

_ALG_ED25519 = 0x01
_SIG_PREFIX = "\u2014 "  # em dash + space
_SIG_SEPARATOR = "\n\n"
_ED25519_SIG_SIZE = 64
_KEY_ID_SIZE = 4
_HASH_SIZE = 32
MAX_SIGNATURES = 100
"""Notes with more signature lines are rejected (the spec lets verifiers bound this)."""

_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)", re.ASCII)
_HEX8 = re.compile(r"[0-9a-fA-F]{8}", re.ASCII)
_MAX_SIZE = 2**64 - 1  # tree sizes are uint64 in every checkpoint consumer


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: which log (origin), how many leaves, and the RFC 6962 root hash."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A parsed verifier key: the name and key id a signature line must carry, and the key."""

    name: str
    key_id: bytes
    public_key: Ed25519PublicKey


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode_strict(text: str, what: str) -> bytes:
    """Standard, padded base64 with exactly one valid spelling per byte string."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise CheckpointError(f"{what} is not valid base64") from None
    # b64decode ignores non-zero trailing bits; re-encoding catches that second spelling.
    if _b64encode(data) != text:
        raise CheckpointError(f"{what} is not canonical base64")
    return data


def _check_name(name: str) -> None:
    # The signed-note spec: non-empty, no Unicode whitespace, no "+" (the
    # verifier-key field separator).  Control characters are whitespace-like
    # enough to reject too.
    if (
        not isinstance(name, str)
        or not name
        or "+" in name
        or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name)
    ):
        raise CheckpointError(f"invalid key name {name!r}")
    _check_utf8(name, "key name")


def _check_utf8(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise CheckpointError(f"{what} is not valid UTF-8") from None


def _check_note_text(text: str) -> None:
    if not isinstance(text, str) or not text:
        raise CheckpointError("note text must be a non-empty string")
    if not text.endswith("\n"):
        raise CheckpointError("note text must end with a newline")
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise CheckpointError("note text contains a control character")
    _check_utf8(text, "note text")


def _raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte key id: SHA-256(name || "\\n" || 0x01 || public key)[:4]."""
    _check_name(name)
    material = name.encode("utf-8") + b"\n" + bytes([_ALG_ED25519]) + _raw_public_key(public_key)
    return hashlib.sha256(material).digest()[:_KEY_ID_SIZE]


def verifier_key_string(name: str, public_key: Ed25519PublicKey) -> str:
    """``<name>+<hex key id>+<base64(0x01 || public key)>`` for publishing to verifiers."""
    encoded = _b64encode(bytes([_ALG_ED25519]) + _raw_public_key(public_key))
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def parse_verifier_key(vkey: str) -> VerifierKey:
    """Parse and self-check a verifier key string (the key id must match name and key)."""
    parts = vkey.split("+", 2) if isinstance(vkey, str) else []
    if len(parts) != 3:
        raise CheckpointError("verifier key must be <name>+<key id>+<key>")
    name, hex_id, encoded = parts
    _check_name(name)
    if not _HEX8.fullmatch(hex_id):
        raise CheckpointError("verifier key id must be 8 hex digits")
    material = _b64decode_strict(encoded, "verifier key")
    if not material or material[0] != _ALG_ED25519:
        raise CheckpointError("verifier key algorithm is not Ed25519 (0x01)")
    if len(material) != 1 + 32:
        raise CheckpointError("Ed25519 verifier key must be 32 bytes")
    public_key = Ed25519PublicKey.from_public_bytes(material[1:])
    expected = key_id(name, public_key)
    if bytes.fromhex(hex_id) != expected:
        raise CheckpointError("verifier key id does not match its name and key")
    return VerifierKey(name=name, key_id=expected, public_key=public_key)


# ---------------------------------------------------------------------------
# Checkpoint body
# ---------------------------------------------------------------------------


def format_checkpoint(checkpoint: Checkpoint) -> str:
    """Serialise a checkpoint body (the text that gets signed)."""
    origin, size, root = checkpoint.origin, checkpoint.size, checkpoint.root_hash
    if not isinstance(origin, str) or not origin or "\n" in origin:
        raise CheckpointError("origin must be a non-empty single line")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= _MAX_SIZE:
        raise CheckpointError("size must be an int in [0, 2**64)")
    if not isinstance(root, bytes) or len(root) != _HASH_SIZE:
        raise CheckpointError(f"root_hash must be {_HASH_SIZE} bytes")
    for ext in checkpoint.extensions:
        # An empty extension line would read as the blank line that ends the body.
        if not isinstance(ext, str) or not ext or "\n" in ext:
            raise CheckpointError("extension lines must be non-empty single lines")
    text = "".join(f"{line}\n" for line in (origin, str(size), _b64encode(root), *checkpoint.extensions))
    _check_note_text(text)
    return text


def parse_checkpoint(text: str) -> Checkpoint:
    """Strictly parse a checkpoint body; ``format_checkpoint`` of the result gives ``text`` back."""
    _check_note_text(text)
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError("checkpoint needs origin, size and root hash lines")
    origin, size_line, root_line, *extensions = lines
    if not origin:
        raise CheckpointError("checkpoint origin is empty")
    if not _DECIMAL.fullmatch(size_line):
        raise CheckpointError("checkpoint size is not a canonical decimal")
    size = int(size_line)
    if size > _MAX_SIZE:
        raise CheckpointError("checkpoint size does not fit in 64 bits")
    root = _b64decode_strict(root_line, "checkpoint root hash")
    if len(root) != _HASH_SIZE:
        raise CheckpointError(f"checkpoint root hash must be {_HASH_SIZE} bytes")
    if any(not ext for ext in extensions):
        raise CheckpointError("checkpoint contains an empty line")
    return Checkpoint(origin=origin, size=size, root_hash=root, extensions=tuple(extensions))


# ---------------------------------------------------------------------------
# Signed notes
# ---------------------------------------------------------------------------


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """Sign ``text`` (which must end in a newline) and return the signed note."""
    _check_note_text(text)
    kid = key_id(name, private_key.public_key())
    signature = private_key.sign(text.encode("utf-8"))
    return f"{text}\n{_SIG_PREFIX}{name} {_b64encode(kid + signature)}\n"


def _split_note(note: str | bytes) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """Split a note into its text and ``(name, key id, signature)`` triples, checking syntax only."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise CheckpointError("malformed note: not UTF-8") from None
    if not isinstance(note, str):
        raise CheckpointError("malformed note: not text")
    if any(ord(ch) < 0x20 and ch != "\n" for ch in note):
        raise CheckpointError("malformed note: control character")
    # Signature lines never contain a blank line, so the *last* one ends the text.
    cut = note.rfind(_SIG_SEPARATOR)
    if cut < 0:
        raise CheckpointError("malformed note: no signature block")
    text, block = note[: cut + 1], note[cut + 2 :]
    _check_note_text(text)
    if not block.endswith("\n"):
        raise CheckpointError("malformed note: signature block must end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointError("malformed note: too many signatures")
    sigs: list[tuple[str, bytes, bytes]] = []
    for line in lines:
        if not line.startswith(_SIG_PREFIX):
            raise CheckpointError("malformed note: signature line must start with an em dash and space")
        fields = line[len(_SIG_PREFIX) :].split(" ")
        if len(fields) != 2:
            raise CheckpointError("malformed note: signature line must be '<name> <base64>'")
        name, encoded = fields
        _check_name(name)
        blob = _b64decode_strict(encoded, "signature")
        if len(blob) <= _KEY_ID_SIZE:
            raise CheckpointError("malformed note: signature too short")
        sigs.append((name, blob[:_KEY_ID_SIZE], blob[_KEY_ID_SIZE:]))
    return text, sigs


def verify_note(note: str | bytes, verifier_key: str | VerifierKey) -> str:
    """Return the note's text if it carries a valid signature by ``verifier_key``.

    Signatures by other keys are ignored (they may be witness cosignatures);
    a signature that names this key but does not verify is an error, as is
    the absence of any signature by this key.
    """
    key = parse_verifier_key(verifier_key) if isinstance(verifier_key, str) else verifier_key
    text, sigs = _split_note(note)
    message = text.encode("utf-8")
    found = False
    for name, kid, signature in sigs:
        if name != key.name or kid != key.key_id:
            continue
        if len(signature) != _ED25519_SIG_SIZE:
            raise CheckpointError(f"invalid signature for key {key.name}+{key.key_id.hex()}")
        try:
            key.public_key.verify(signature, message)
        except InvalidSignature:
            raise CheckpointError(f"invalid signature for key {key.name}+{key.key_id.hex()}") from None
        found = True
    if not found:
        raise CheckpointError(f"note has no signature by key {key.name}+{key.key_id.hex()}")
    return text


def open_checkpoint(note: str | bytes, verifier_key: str | VerifierKey, origin: str) -> Checkpoint:
    """Verify a signed checkpoint and check it is for ``origin``; the only way to trust one."""
    checkpoint = parse_checkpoint(verify_note(note, verifier_key))
    if checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    return checkpoint

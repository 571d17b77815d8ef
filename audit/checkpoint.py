"""Signed checkpoints of the chain head, as C2SP signed notes, and their files.

Owns the signed-note text format (c2sp.org/signed-note), the checkpoint body
(c2sp.org/tlog-checkpoint), and the checkpoint directory. A checkpoint file is written
atomically (temporary file, fsync, ``os.replace``) with mode 0600, and a signed
checkpoint is never replaced by a different one. This module never decides *when* to
checkpoint, and never reads a database: the caller passes the head in.

A checkpoint (text ends with a newline; the signature line starts with an em dash)::

    <origin>
    <size, decimal>
    <base64 of the 32-byte head hash>

    — <key name> <base64(4-byte key ID || 64-byte Ed25519 signature of the body)>

The body is the C2SP checkpoint layout, but the third line is the hash of entry
``size`` of *our* linear chain, not an RFC 6962 Merkle root; a generic tlog client can
check the signature but must not expect inclusion or consistency proofs.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from audit.errors import AuditKeyError, CheckpointFormatError, CheckpointSignatureError
from audit.events import HASH_SIZE, ChainHead
from audit.keys import KEY_ID_SIZE, SigningKey, VerifierKey, check_key_name

SIGNATURE_PREFIX: Final = "\u2014 "  # em dash, space
MAX_NOTE_BYTES: Final = 64 * 1024
MAX_SIGNATURES: Final = 100
_SIZE_RE: Final = re.compile(r"(?:0|[1-9][0-9]{0,18})\Z")
_FILE_RE: Final = re.compile(r"checkpoint-([0-9]{12})\.txt\Z")


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: key name, 4-byte key ID, and the signature bytes."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        payload = base64.b64encode(self.key_id + self.signature).decode("ascii")
        return f"{SIGNATURE_PREFIX}{self.name} {payload}\n"


@dataclass(frozen=True, slots=True)
class SignedNote:
    """A note text (ending in a newline) and its signature lines, verified or not."""

    text: str
    signatures: tuple[NoteSignature, ...] = ()

    def to_text(self) -> str:
        """Serialise: the text, a blank line, then one line per signature."""
        return self.text + "\n" + "".join(sig.line() for sig in self.signatures)

    def signed(self, key: SigningKey) -> SignedNote:
        """Add ``key``'s signature (replacing an earlier one by the same key)."""
        if not self.text.endswith("\n"):
            raise CheckpointFormatError("note text must end with a newline")
        new = NoteSignature(key.name, key.key_id, key.sign(self.text.encode("utf-8")))
        kept = tuple(
            s for s in self.signatures if (s.name, s.key_id) != (new.name, new.key_id)
        )
        return replace(self, signatures=(*kept, new))

    def is_signed_by(self, keys: Sequence[VerifierKey]) -> bool:
        """Apply the C2SP rule: at least one known key signed, and none failed.

        Signatures by unknown keys (another name, or another key ID) are ignored, which
        is what allows key rotation and cosigning witnesses.
        """
        known = {(k.name, k.key_id): k for k in keys}
        message = self.text.encode("utf-8")
        verified = False
        for sig in self.signatures:
            key = known.get((sig.name, sig.key_id))
            if key is None:
                continue
            if not key.verify(message, sig.signature):
                return False
            verified = True
        return verified


def parse_note(data: str | bytes) -> SignedNote:
    """Parse a signed note without verifying it (see :meth:`SignedNote.is_signed_by`).

    Raises:
        CheckpointFormatError: not UTF-8, too large, contains control characters,
            lacks the blank line or a signature, or a signature line is malformed.
    """
    if isinstance(data, bytes):
        if len(data) > MAX_NOTE_BYTES:
            raise CheckpointFormatError("note is too large")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise CheckpointFormatError("note is not valid UTF-8") from None
    else:
        text = data
        if len(text.encode("utf-8", "surrogatepass")) > MAX_NOTE_BYTES:
            raise CheckpointFormatError("note is too large")
    if any(
        (ord(ch) < 0x20 and ch != "\n") or 0xD800 <= ord(ch) < 0xE000 for ch in text
    ):
        raise CheckpointFormatError("note contains a control character")
    split = text.rfind("\n\n")
    if split < 0:
        raise CheckpointFormatError("note has no blank line before its signatures")
    body, block = text[: split + 1], text[split + 2 :]
    if not block or not block.endswith("\n"):
        raise CheckpointFormatError("note has no signature lines")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointFormatError("note has too many signatures")
    return SignedNote(body, tuple(_parse_signature(line) for line in lines))


def _parse_signature(line: str) -> NoteSignature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise CheckpointFormatError("signature line does not start with an em dash")
    name, _, payload = line[len(SIGNATURE_PREFIX) :].partition(" ")
    try:
        check_key_name(name)
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError, AuditKeyError):
        raise CheckpointFormatError("signature line is malformed") from None
    if len(raw) <= KEY_ID_SIZE:
        raise CheckpointFormatError("signature line is too short")
    return NoteSignature(name, raw[:KEY_ID_SIZE], raw[KEY_ID_SIZE:])


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Signed: the log ``origin`` had ``size`` entries, ending in ``head``."""

    origin: str
    size: int
    head: bytes
    signatures: tuple[NoteSignature, ...] = ()
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or not self.origin or "\n" in self.origin:
            raise CheckpointFormatError("checkpoint origin must be one non-empty line")
        if type(self.size) is not int or not 0 <= self.size < 2**63:
            raise CheckpointFormatError(
                "checkpoint size must be a non-negative integer"
            )
        if type(self.head) is not bytes or len(self.head) != HASH_SIZE:
            raise CheckpointFormatError("checkpoint head must be 32 bytes")
        if any(not line or "\n" in line for line in self.extensions):
            raise CheckpointFormatError(
                "extension lines must be non-empty single lines"
            )

    @property
    def body(self) -> str:
        """The signed text: origin, size, base64 head, extensions; ends in a newline."""
        head = base64.b64encode(self.head).decode("ascii")
        lines = (self.origin, str(self.size), head, *self.extensions)
        return "".join(f"{line}\n" for line in lines)

    @property
    def chain_head(self) -> ChainHead:
        return ChainHead(self.size, self.head)

    @property
    def note(self) -> SignedNote:
        return SignedNote(self.body, self.signatures)

    def to_text(self) -> str:
        """Serialise as a signed note (what goes in the checkpoint file)."""
        return self.note.to_text()

    def is_signed_by(self, keys: Sequence[VerifierKey]) -> bool:
        """True if a trusted key signed this and no trusted key's signature fails."""
        return self.note.is_signed_by(keys)

    def check_signed_by(self, keys: Sequence[VerifierKey]) -> None:
        """Raise unless :meth:`is_signed_by` holds.

        Raises:
            CheckpointSignatureError: names the checkpoint size, never key material.
        """
        if not self.is_signed_by(keys):
            raise CheckpointSignatureError(
                f"checkpoint at size {self.size} has no valid signature from a "
                "trusted key"
            )

    def cosigned(self, key: SigningKey) -> Checkpoint:
        """Add a signature (a second key during rotation, or a witness)."""
        return replace(self, signatures=self.note.signed(key).signatures)


def sign_checkpoint(
    head: ChainHead, key: SigningKey, origin: str | None = None
) -> Checkpoint:
    """Sign ``head`` as a checkpoint of ``origin`` (by default the key's name).

    C2SP recommends that the key name match the origin, so pass ``origin`` only when
    the log's identity and the key's name differ on purpose.

    Raises:
        AuditKeyError: ``origin`` is not a valid name (empty, spaces, ``+``, controls).
    """
    origin = key.name if origin is None else origin
    check_key_name(origin)
    checkpoint = Checkpoint(origin, head.size, head.head_hash)
    return checkpoint.cosigned(key)


def parse_checkpoint(data: str | bytes) -> Checkpoint:
    """Parse a checkpoint note (signatures are kept, not verified).

    Raises:
        CheckpointFormatError: the note or its body is malformed.
    """
    note = parse_note(data)
    lines = note.text[:-1].split("\n")
    if len(lines) < 3 or not all(lines):
        raise CheckpointFormatError("checkpoint body needs origin, size and head lines")
    origin, size_text, head_text, *extensions = lines
    if not _SIZE_RE.match(size_text) or int(size_text) >= 2**63:
        raise CheckpointFormatError("checkpoint size is not a plain decimal number")
    try:
        head = base64.b64decode(head_text, validate=True)
    except binascii.Error:
        raise CheckpointFormatError("checkpoint head is not base64") from None
    if len(head) != HASH_SIZE or base64.b64encode(head).decode("ascii") != head_text:
        raise CheckpointFormatError("checkpoint head is not a canonical 32-byte hash")
    size = int(size_text)
    if size == 0 and any(head):
        raise CheckpointFormatError("a checkpoint of size 0 must have a zero head")
    # Every line was checked to be in canonical form, so ``body`` re-creates the
    # signed text byte for byte (a test checks the round trip).
    return Checkpoint(origin, size, head, note.signatures, tuple(extensions))


def checkpoint_path(directory: Path, size: int) -> Path:
    """The file of the checkpoint of ``size``: ``checkpoint-<size:012d>.txt``."""
    return directory / f"checkpoint-{size:012d}.txt"


def write_checkpoint_file(directory: Path, checkpoint: Checkpoint) -> Path:
    """Write ``checkpoint`` atomically into ``directory`` (created 0700) as mode 0600.

    Writing the same checkpoint twice is a no-op. A different checkpoint of the same
    size is refused: two signed heads for one size is a fork, never an update.

    Raises:
        CheckpointFormatError: a different checkpoint file for this size exists, or
            the directory cannot be written.
    """
    data = checkpoint.to_text().encode("utf-8")
    path = checkpoint_path(directory, checkpoint.size)
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if path.exists():
            if path.read_bytes() == data:
                return path
            raise CheckpointFormatError(
                f"{path.name}: a different checkpoint of this size already exists"
            )
        fd, temp = tempfile.mkstemp(prefix=".checkpoint-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), 0o600)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        _fsync_directory(directory)
    except OSError as exc:
        raise CheckpointFormatError(
            f"{directory}: cannot write checkpoint ({type(exc).__name__})"
        ) from None
    return path


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_checkpoint_file(path: Path) -> Checkpoint:
    """Read and parse one checkpoint file; its name must match its size.

    Raises:
        CheckpointFormatError: unreadable, malformed, or misnamed (names the file).
    """
    match = _FILE_RE.match(path.name)
    if match is None:
        raise CheckpointFormatError(f"{path.name}: not a checkpoint file name")
    try:
        data = path.read_bytes()
    except OSError:
        raise CheckpointFormatError(f"{path}: cannot read checkpoint file") from None
    try:
        checkpoint = parse_checkpoint(data)
    except CheckpointFormatError as exc:
        raise CheckpointFormatError(f"{path.name}: {exc}") from None
    if checkpoint.size != int(match.group(1)):
        raise CheckpointFormatError(f"{path.name}: size in the file name differs")
    return checkpoint


def read_checkpoint_files(directory: Path) -> list[Checkpoint]:
    """Read every ``checkpoint-*.txt`` in ``directory``, smallest size first.

    Files with other names (including temporary files) are ignored; a file named
    ``checkpoint-*.txt`` that does not parse is an error, never skipped, so a damaged
    checkpoint cannot silently widen the window for undetected truncation.

    Raises:
        CheckpointFormatError: the directory is missing, or a checkpoint file is bad.
    """
    if not directory.is_dir():
        raise CheckpointFormatError(f"{directory}: checkpoint directory does not exist")
    paths = sorted(p for p in directory.iterdir() if p.name.startswith("checkpoint-"))
    checkpoints = [read_checkpoint_file(p) for p in paths if p.name.endswith(".txt")]
    return sorted(checkpoints, key=lambda c: c.size)

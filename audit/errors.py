"""Every exception the ``audit`` package raises.

``audit`` imports nothing from ``governance`` (it must stay verifiable on its own, by an
IG officer with nothing but this package and ``cryptography``), so its exceptions live
here rather than in ``governance/errors.py``. The service maps them onto the governance
tree: ``ChainIntegrityError`` becomes ``AuditIntegrityError`` (exit 21), the others
become ``ConfigError`` or bugs, as the caller sees fit.

Messages name fields, files, sequence numbers and key names; they never quote a field's
value, because a value may have been typed by a user (a stated purpose, a resource id).

AuditError                      base, never raised itself
├── AuditEventError             an event is refused before sealing (field, not value)
├── ChainIntegrityError         ``VerifyReport.check()`` found a problem (first bad seq)
├── CheckpointFormatError       a checkpoint note or file cannot be parsed or written
├── CheckpointSignatureError    no trusted key signed a checkpoint, or a signature fails
└── AuditKeyError               a key file is missing, malformed, too open, or exists
"""

from __future__ import annotations


class AuditError(Exception):
    """Base of every exception the audit package raises on purpose."""


class AuditEventError(AuditError, ValueError):
    """Event refused before sealing; the message names the field, not the value."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"audit field {field!r}: {problem}")
        self.field = field
        self.problem = problem


class ChainIntegrityError(AuditError):
    """The audit chain or its checkpoints did not verify."""

    def __init__(self, message: str, *, first_bad_seq: int | None, kind: str) -> None:
        super().__init__(message)
        self.first_bad_seq = first_bad_seq
        self.kind = kind


class CheckpointFormatError(AuditError, ValueError):
    """A checkpoint note, or a checkpoint file, is malformed or cannot be written."""


class CheckpointSignatureError(AuditError):
    """A checkpoint carries no valid signature from a trusted key."""


class AuditKeyError(AuditError):
    """A signing or verifier key cannot be created, loaded or parsed."""

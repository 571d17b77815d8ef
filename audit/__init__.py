"""wresgov's tamper-evident audit log: entry model, hash chain, signed checkpoints.

Importable and usable on its own (standard library and ``cryptography`` only), so an
IG officer can verify an exported log offline. It imports nothing from ``governance``;
the service maps :class:`AuditError` subclasses onto its own exceptions. The log's
*code* lives here; its entries live in the store.
"""

from __future__ import annotations

from audit.chain import HASH_DOMAIN, compute_entry_hash, hash_values, seal, seal_many
from audit.checkpoint import (
    Checkpoint,
    NoteSignature,
    SignedNote,
    checkpoint_path,
    parse_checkpoint,
    parse_note,
    read_checkpoint_file,
    read_checkpoint_files,
    sign_checkpoint,
    write_checkpoint_file,
)
from audit.errors import (
    AuditError,
    AuditEventError,
    AuditKeyError,
    ChainIntegrityError,
    CheckpointFormatError,
    CheckpointSignatureError,
)
from audit.events import (
    ENTRY_FIELDS,
    OUTCOMES,
    ZERO_HASH,
    AuditEntry,
    AuditEvent,
    ChainHead,
    DetailValue,
    EventRules,
    Outcome,
    canonical_json,
    format_time,
    has_control,
    parse_time,
)
from audit.findings import Problem, ProblemKind, VerifyReport
from audit.keys import (
    SigningKey,
    VerifierKey,
    generate_signing_key,
    key_id,
    load_signing_key,
    read_verifier_keys,
)
from audit.verifier import verify, verify_rows

__all__ = [
    "ENTRY_FIELDS",
    "HASH_DOMAIN",
    "OUTCOMES",
    "ZERO_HASH",
    "AuditEntry",
    "AuditError",
    "AuditEvent",
    "AuditEventError",
    "AuditKeyError",
    "ChainHead",
    "ChainIntegrityError",
    "Checkpoint",
    "CheckpointFormatError",
    "CheckpointSignatureError",
    "DetailValue",
    "EventRules",
    "NoteSignature",
    "Outcome",
    "Problem",
    "ProblemKind",
    "SignedNote",
    "SigningKey",
    "VerifierKey",
    "VerifyReport",
    "canonical_json",
    "checkpoint_path",
    "compute_entry_hash",
    "format_time",
    "generate_signing_key",
    "has_control",
    "hash_values",
    "key_id",
    "load_signing_key",
    "parse_checkpoint",
    "parse_note",
    "parse_time",
    "read_checkpoint_file",
    "read_checkpoint_files",
    "read_verifier_keys",
    "seal",
    "seal_many",
    "sign_checkpoint",
    "verify",
    "verify_rows",
    "write_checkpoint_file",
]

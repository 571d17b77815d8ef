"""structlog set-up for the operational log (not the audit log).

Modules only call ``structlog.get_logger()``; ``configure`` runs once, from ``cli.py``.
Event names are constant snake_case facts, and context keys come from an allowlist:
any other key is redacted, or raises in strict mode (the test suite), because a key
that is not on the list may carry a personal value or an unsuppressed count.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

#: Context keys that can never hold a personal value or a pre-suppression count.
SAFE_LOG_KEYS = frozenset(
    {
        "event",
        "level",
        "timestamp",
        "logger",
        "kind",
        "org",
        "period",
        "file",
        "rows_read",
        "rows_accepted",
        "rows_quarantined",
        "extract_id",
        "outcome",
        "reason",
        "seconds",
        "database",
        "policy_id",
        "policy_sha256",
        "method",
        "cells",
        "tables",
        "primary",
        "secondary",
        "unsafe",
        "request_id",
        "release_id",
        "principal",
        "role",
        "action",
        "exc_type",
        "path",
        "route",
        "status",
        "count_tables",
        "bodies",
        "seed",
        "staff",
    }
)


class UnsafeLogKeyError(Exception):
    """A log call used a key that is not on the allowlist (strict mode only)."""

    def __init__(self, keys: list[str]) -> None:
        super().__init__(f"log keys not on the allowlist: {', '.join(keys)}")


def allowlist(*, strict: bool) -> Processor:
    def processor(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
        unknown = sorted(event.keys() - SAFE_LOG_KEYS)
        if unknown and strict:
            raise UnsafeLogKeyError(unknown)
        for key in unknown:
            event[key] = "[redacted]"
        return event

    return processor


def configure(
    *,
    renderer: str = "console",
    level: str = "info",
    strict: bool = False,
    stream: TextIO | None = None,
) -> None:
    """Configure structlog once for the process; logs go to stderr by default."""
    final: Processor = (
        structlog.processors.JSONRenderer()
        if renderer == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            allowlist(strict=strict),
            final,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stderr),
        cache_logger_on_first_use=False,
    )

"""What verifying an audit log reports: each finding, and the whole outcome.

:class:`ProblemKind` names what ``audit.verifier.verify`` can find (the values are
stable and appear in reports), :class:`Problem` is one finding with the first
sequence number involved, and :class:`VerifyReport` the outcome, which raises
:class:`ChainIntegrityError` only when asked (:meth:`VerifyReport.check`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from audit.errors import ChainIntegrityError
from audit.events import ChainHead


class ProblemKind(StrEnum):
    """What ``verify`` found; the values are stable and appear in reports."""

    MALFORMED = "malformed"  # a field has the wrong type: edited, or mis-read
    MODIFIED = "modified"  # recomputed hash differs from the stored hash
    GAP = "gap"  # seq jumps forward: entries deleted (or moved)
    OUT_OF_ORDER = "out_of_order"  # seq repeats or goes back: entries inserted or moved
    INSERTED = "inserted"  # an entry sits between two that were chained together
    BROKEN_LINK = "broken_link"  # prev_hash is not the previous entry's hash
    TRUNCATED = "truncated"  # a trusted checkpoint covers entries that are missing
    REWRITTEN = "rewritten"  # the chain differs from a trusted checkpoint's head
    BAD_SIGNATURE = "bad_signature"  # no valid signature by a trusted key
    WRONG_ORIGIN = "wrong_origin"  # a checkpoint of another log
    FORK = "fork"  # two trusted checkpoints disagree at the same size


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding: its kind, the first sequence number involved, and a safe message."""

    kind: ProblemKind
    seq: int | None
    message: str
    checkpoint_size: int | None = None

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "checkpoints"
        return f"{where}: {self.kind.value}: {self.message}"


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of :func:`verify`; ``ok`` only if there is nothing to report."""

    entries: int
    head: ChainHead | None
    checkpoints_trusted: int
    latest_checkpoint: int | None
    problems: tuple[Problem, ...]
    problems_omitted: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        """The problem with the lowest sequence number (checkpoint-only ones last)."""
        if not self.problems:
            return None
        return min(self.problems, key=problem_order)

    @property
    def first_bad_seq(self) -> int | None:
        first = self.first_problem
        return None if first is None else first.seq

    def check(self) -> None:
        """Raise unless the chain and every checkpoint verified.

        Raises:
            ChainIntegrityError: carries the first bad seq and the kind of problem.
        """
        first = self.first_problem
        if first is not None:
            raise ChainIntegrityError(
                f"audit chain does not verify: {first}",
                first_bad_seq=first.seq,
                kind=first.kind.value,
            )


def problem_order(problem: Problem) -> tuple[int, int]:
    """Earliest first: by sequence number, checkpoint-only findings last."""
    return (0, problem.seq) if problem.seq is not None else (1, 0)

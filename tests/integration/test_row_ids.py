"""An id no stored row can have is "not found" on every path and every backend.

Ids are 32-bit SQL integers: PostgreSQL refuses to compare a column with a larger
one (a numeric overflow), SQLite just finds nothing. The store answers both as "no
such row", so every command behaves alike, whatever id it is given.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from governance.access import Subject
from governance.errors import NotFoundError
from governance.service import Service

IDS = [0, -1, 2**31, 2**63, 10**30]
Call = Callable[[Service, Subject, int], object]
CALLS: dict[str, tuple[str, Call]] = {
    "grant revoke": (
        "grant",
        lambda s, _, n: s.revoke_grant(s.caller_for("admin"), n),
    ),
    "request show": ("request", lambda s, ig, n: s.show_request(ig, n)),
    "request approve": ("request", lambda s, ig, n: s.approve_request(ig, n)),
    "quarantine": (
        "extract",
        lambda s, _, n: s.quarantine(s.caller_for("dm-7a1"), n),
    ),
}


@pytest.mark.parametrize("command", sorted(CALLS))
@pytest.mark.parametrize("row_id", IDS)
def test_an_id_out_of_range_is_not_found(
    service: Service, ig: Subject, dm: Subject, command: str, row_id: int
) -> None:
    noun, call = CALLS[command]
    with pytest.raises(NotFoundError, match=f"^no {noun} {row_id}$"):
        call(service, ig, row_id)

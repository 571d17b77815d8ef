"""docs/openapi.json is the API's live OpenAPI document (`make docs` rewrites it)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from api import create_app
from governance.config import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def render() -> str:
    # The document does not depend on the store: no store is opened to build it.
    app = create_app(Settings(home=Path("unused")))
    return json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"


def test_openapi_document_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/openapi.json is stale: run `make docs`"
    )


def test_every_operation_is_documented_and_secured() -> None:
    document = json.loads(render())
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("description") or operation.get("summary"), (
                method,
                path,
            )
            if path != "/v1/health":
                assert operation.get("security") == [{"HTTPBearer": []}], (method, path)


if __name__ == "__main__":
    if "--write" in sys.argv:
        DOC.write_text(render(), encoding="utf-8")

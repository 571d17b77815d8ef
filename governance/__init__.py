"""wresgov: the governance core (ingest, pseudonymisation, storage, disclosure control).

Importable without click, faker or any web framework. The CLI and the HTTP API are thin
layers over :class:`governance.service.Service`.
"""

from __future__ import annotations

__version__ = "0.1.0.dev0"

__all__ = ["__version__"]

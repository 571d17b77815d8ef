"""wresgov's HTTP API: an ASGI application over ``governance.Service``.

``create_app(settings)`` builds it; ``wresgov serve`` runs it on uvicorn. The core
(``governance``) never imports this package or the web framework.
"""

from api.app import create_app

__all__ = ["create_app"]

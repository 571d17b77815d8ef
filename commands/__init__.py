"""The ``wresgov`` command groups, each a thin layer over ``governance.service``.

``cli.py`` holds the entry point and the foundation commands and adds these groups
to it; like the HTTP API (``api/``), nothing here holds domain logic.
"""

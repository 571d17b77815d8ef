"""Benchmark scripts, each run as ``.venv/bin/python bench/<name>.py``.

This file only makes ``bench`` a package so type checkers name its modules
``bench.audit``, ``bench.api`` and so on, rather than taking ``bench/audit.py`` and
``bench/api.py`` for the top-level ``audit`` and ``api`` packages they measure.
"""

"""The store: the only package that talks to the database (personal-data zone)."""

from governance.storage.base import Store, Transaction

__all__ = ["Store", "Transaction"]

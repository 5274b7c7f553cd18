"""Sync remotes: the interface (:mod:`.types`), the factory that picks a backend for a URL
(:mod:`.factory`) and one module per backend (:mod:`.sqlite`, :mod:`.postgres`).

Kept empty on purpose: importing the package imports no backend (and so no psycopg).
Callers import :func:`fieldlog.db.remotes.factory.open_remote` and the types they trade.
"""

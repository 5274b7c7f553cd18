"""TEMP-SHIM issue 9: bench/bench_sync_pg.py imports ``tests.pg``; the harness is in tests/lib."""

from tests.lib.pg import PgServer, fresh_pg_url, server  # noqa: F401  TEMP-SHIM issue 9

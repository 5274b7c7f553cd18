"""The store's repositories: one per record type, the contact entry, and the id lookups they
share (:mod:`fieldlog.db.repos.base`). ``Store`` builds them on first use (``store.contacts``,
``store.orgs``, ...). A repository reads with SQL and writes through ``store.write()``."""

"""Open Referral HSDS 3.0 (the Human Services Data Specification): the partner directory in and
out as an HSDS tabular dataset, the format 2-1-1 and county directories publish
(docs/hsds.md).

- :mod:`~fieldlog.hsds.spec`: the official schema, vendored in ``schema/`` (package data);
- :mod:`~fieldlog.hsds.mapping`: a partner as HSDS rows and back (pure functions);
- :mod:`~fieldlog.hsds.validate`: a dataset checked against the schema with frictionless;
- :mod:`~fieldlog.hsds.read`: a dataset's organizations with what points at them;
- :mod:`~fieldlog.hsds.export`: ``fieldlog export hsds``.

The import itself is :mod:`fieldlog.importer.hsds` (the import's one transaction, its
rules). frictionless is imported only inside :mod:`~fieldlog.hsds.validate`'s function, and
nothing here imports Typer, Rich or Textual.
"""

"""The official HSDS 3.0 tabular schema (package data; see README.md and LICENSE)."""

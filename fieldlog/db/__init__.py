"""Storage: opening the log, migrating it, and the store that reads and writes it."""

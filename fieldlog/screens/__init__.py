"""Textual screens (one module per screen). Filled by the TUI issue."""

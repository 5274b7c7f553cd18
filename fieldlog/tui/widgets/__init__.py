"""Pieces that several screens and dialogs use: table cells, selects, suggesters, item rows."""

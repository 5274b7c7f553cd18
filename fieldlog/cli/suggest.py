"""'Did you mean' for partner names typed as referral agencies (issue 11)."""

from __future__ import annotations

"""The functions' fixtures (a migrated database, freshly imported handlers), shared with the bad-input tests."""

from __future__ import annotations

from tests.integration.functions.conftest import load_function, migrated

__all__ = ["load_function", "migrated"]

"""Fixtures of the browser tests; each module has its own `server` (see tests/live_server.py serve)."""

from __future__ import annotations

import pytest


@pytest.fixture
def browser(server):
    """Debian's Chromium through Playwright, for one test; the module's server is up first."""
    pytest.importorskip("playwright.sync_api")
    from tests.live_server import chromium

    with chromium() as launched:
        yield launched

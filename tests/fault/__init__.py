"""Fault tests (issue 7): real Daphne workers, PostgreSQL and Redis; processes killed, services cut."""

import pytest

pytest.register_assert_rewrite("tests.fault.support")

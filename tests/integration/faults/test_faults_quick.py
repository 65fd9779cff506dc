"""Every fault, in a quick size, against the real stack: no acknowledged write lost or doubled, no failure outside the
fault's window, no password in any function log."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.faults.injectors import FAULTS
from harness.faults.runner import run_fault
from harness.pgbouncer import INSTALL_HINT, find_pgbouncer

TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault_loses_no_write_and_fails_only_inside_its_window(name: str) -> None:
    fault = FAULTS[name]
    if fault.needs_pgbouncer and find_pgbouncer() is None:
        pytest.skip(INSTALL_HINT)
    run = run_fault(fault, template=TEMPLATE, clients=3, duration_s=3.0)
    assert run.ledger.acknowledged > 0, "no write was acknowledged: the run measured nothing"
    assert run.ledger.missing == []
    assert run.ledger.doubled == []
    assert run.ledger.altered == []
    assert run.failed_outside_window == 0, run.errors
    assert run.secrets_in_logs == 0

"""Reliability under faults (``harness faults``): keep working, lose nothing, write nothing twice.

Writers POST items through the real function with idempotency keys while a fault is injected; a ledger of what each
writer was told was committed is then compared with the table.
"""

"""Benchmarks: figures written to ``docs/benchmarks.md`` with the machine, versions and command behind them.

Speed and scale live here, never in timed test assertions. Each section is a module with ``TITLE`` and
``run(quick: bool) -> str`` (Markdown); :mod:`harness.bench.cli` runs them and writes the file.
"""

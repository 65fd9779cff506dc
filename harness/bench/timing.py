"""Timing for the bench: interleaved rounds, per-round means, and ratios to a floor measured in the same rounds.

Variants run one after another within each round, so the machine's noise (2 small cores, other tenants) hits all
of them alike; a time is the median over rounds of the mean time per request in that round, and a ratio is the
median over rounds of that round's time divided by the floor's in the same round, with the p25-p75 of those
per-round ratios as the spread.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from harness.bench.layer_work import Work

__all__ = ["Series", "Timings", "run_rounds", "time_round"]


@dataclass
class Series:
    """Per-round mean microseconds per request for one variant."""

    name: str
    per_round_us: list[float] = field(default_factory=list)
    cpu_per_round_us: list[float] = field(default_factory=list)  # this thread's CPU time: robust to other load

    @property
    def median_us(self) -> float:
        return statistics.median(self.per_round_us)

    @property
    def cpu_us(self) -> float:
        return statistics.median(self.cpu_per_round_us)

    def ratios(self, floor: Series) -> list[float]:
        """This variant's time over the floor's, round by round (both measured side by side in each round)."""
        return [mine / theirs for mine, theirs in zip(self.per_round_us, floor.per_round_us, strict=True)]

    def add(self, timing: tuple[float, float]) -> None:
        self.per_round_us.append(timing[0])
        self.cpu_per_round_us.append(timing[1])


def time_round(work: Work, requests: int) -> tuple[float, float]:
    """Wall and client-CPU microseconds per request over one round."""
    start, cpu_start = time.perf_counter(), time.thread_time()
    for i in range(requests):
        work(i)
    return (time.perf_counter() - start) / requests * 1e6, (time.thread_time() - cpu_start) / requests * 1e6


@dataclass
class Timings:
    """Every variant's read and write series from one run, and the floor they are compared with."""

    series: dict[str, Series]
    floor: str

    def get(self, name: str, kind: str) -> Series:
        return self.series[f"{name}|{kind}"]

    def names(self) -> list[str]:
        return list(dict.fromkeys(key.split("|")[0] for key in self.series))

    def ratio(self, name: str, kind: str, against: str | None = None) -> float:
        """Median over rounds of this variant's time over the floor's (or ``against``'s), round by round."""
        return statistics.median(self.get(name, kind).ratios(self.get(against or self.floor, kind)))

    def spread(self, name: str, kind: str, against: str | None = None) -> str:
        """The ratio with its p25-p75 over rounds, as the tables show it."""
        p25, _, p75 = statistics.quantiles(self.get(name, kind).ratios(self.get(against or self.floor, kind)), n=4)
        return f"{self.ratio(name, kind, against):.2f} ({p25:.2f}-{p75:.2f})"


def run_rounds(variants: Mapping[str, tuple[Work, Work, int]], *, rounds: int, floor: str) -> Timings:
    """Time each variant's ``(read, write, requests per round)`` in ``rounds`` interleaved rounds."""
    series: dict[str, Series] = {}
    for _ in range(rounds):
        for name, (read, write, requests) in variants.items():
            series.setdefault(f"{name}|read", Series(name)).add(time_round(read, requests))
            series.setdefault(f"{name}|write", Series(name)).add(time_round(write, requests))
    return Timings(series, floor)

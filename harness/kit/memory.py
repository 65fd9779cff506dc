"""Process and machine memory, through ``psutil`` rather than ``/proc`` parsed by hand.

A backend's cost is its private memory (USS: pages no other process shares); an environment's is both its RSS and
its PSS (shared pages divided fairly between the processes that map them). ``None`` where the kernel will not tell.
"""

from __future__ import annotations

import psutil

__all__ = ["available_mib", "private_kib", "rss_pss_kib", "total_gib"]


def private_kib(pid: int) -> int | None:
    """Private memory (clean + dirty) of one process, KiB; None when it is gone or not ours to read."""
    try:
        return int(psutil.Process(pid).memory_full_info().uss) // 1024
    except (psutil.Error, OSError):
        return None


def rss_pss_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process, KiB; (0, 0) once it has gone."""
    try:
        info = psutil.Process(pid).memory_full_info()
    except (psutil.Error, OSError):
        return 0, 0
    return int(info.rss) // 1024, int(getattr(info, "pss", 0)) // 1024


def available_mib() -> int:
    """Memory the machine could still give without swapping (``MemAvailable``), MiB."""
    return int(psutil.virtual_memory().available) // (1024 * 1024)


def total_gib() -> float:
    """The machine's memory, GiB, to one decimal."""
    return round(int(psutil.virtual_memory().total) / 1024**3, 1)

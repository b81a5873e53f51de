"""How many CPU threads a compute-heavy part of skillstack may use: one per idle core.

Shared by the trainers (torch) and the ONNX embedder (onnxruntime); holds no thread pools itself.
"""

from __future__ import annotations

import os


def auto_threads(cores: int, load: float, most: int) -> int:
    """Threads for a process: one per idle core, counting this process as one of the load.

    On a busy CPU, more threads than idle cores make every matmul wait for preempted threads
    (measured here: a forward pass 12x slower with 2 threads than with 1 on a 2-core machine under load 11).
    """
    idle = cores - max(0.0, load - 1.0)
    return int(max(1, min(most, round(idle))))


def idle_threads(most: int | None = None) -> int:
    """auto_threads for this machine now (its cores, its 1-minute load average), at most `most` (default: the cores)."""
    cores = os.cpu_count() or 1
    return auto_threads(cores, os.getloadavg()[0], most or cores)

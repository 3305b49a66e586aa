"""What the benchmarks share: the devices to measure on, trainer steps per second, milliseconds per call."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import torch

from core.probes import default_probes
from core.trainers import make_trainer


def app_devices(choice: str) -> list[torch.device]:
    """The devices `--device cpu|cuda|both` asks for (CUDA only where there is one), with the app's threads.

    The JobManager gives each run one intra-op thread per two cores; so does every benchmark.
    """
    torch.set_num_threads(max(1, (os.cpu_count() or 2) // 2))
    devices = [torch.device("cpu")] if choice in ("cpu", "both") else []
    if choice in ("cuda", "both") and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    return devices


def gpu_name() -> str:
    """The first GPU's name, or 'none'."""
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()  # CUDA runs asynchronously: the clock stops when the work is done


def steps_per_s(spec, device: torch.device, seconds: float) -> float:
    """Steps per second of a fresh trainer over `seconds` after one warm-up epoch (allocations, cuDNN autotuning),
    with the grad-norm probe of the page and the runner; the evaluations at epoch ends are included."""
    t = make_trainer(spec, default_probes(), device)
    t.run_epoch()
    _sync(device)
    s0, t0 = t.step_count, time.perf_counter()
    while time.perf_counter() - t0 < seconds and not t.done:
        t.step()
    _sync(device)
    return (t.step_count - s0) / (time.perf_counter() - t0)


def ms_per_call(fn: Callable[[], object], repeats: int) -> float:
    """Wall milliseconds per call of `fn`, after one warm-up call."""
    fn()
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    return 1000 * (time.perf_counter() - t0) / repeats

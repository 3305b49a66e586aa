"""Background training. A Job (`job`) is the only door to a running model: events, `snapshot()`, `act()`;
its thread (`loop`) trains batch by batch; its records reach the store through a Recorder (`recorder`);
the JobManager (`manager`) owns a server's jobs.
"""

from core.jobs.job import EVAL_S, STOPPED, Job
from core.jobs.loop import BUSY, PUBLISH_S, SLOW_MOTION_S, StartFn, ViewFn
from core.jobs.manager import JobManager
from core.jobs.recorder import FLUSH_S, WEIGHTS_S

__all__ = [
    "BUSY",
    "EVAL_S",
    "FLUSH_S",
    "PUBLISH_S",
    "SLOW_MOTION_S",
    "STOPPED",
    "WEIGHTS_S",
    "Job",
    "JobManager",
    "StartFn",
    "ViewFn",
]

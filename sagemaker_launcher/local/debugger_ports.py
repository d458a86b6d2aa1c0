"""The ports a local run's debugger listens on (job_debugger.py's rule), and whether it serves at all.

Host mode's processes bind 127.0.0.1 themselves. A container binds its own interfaces, and Docker
publishes each of its processes' ports on the host's loopback only, at the same number: hosts take
distinct ports by the rule, so the containers of one run never collide.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sagemaker_container import job_debugger
from sagemaker_launcher.spec.request import decoded_hyperparameters, processes_per_host


def serves_debugger(environment: Mapping[str, str]) -> bool:
    """The job's debugger may listen: the hold is on, or breakpoint() is pointed at it."""
    return job_debugger.HOLD_ENV in environment or environment.get("PYTHONBREAKPOINT", "").startswith(
        "job_debugger."
    )


def host_ports(request: Mapping[str, Any], host: str, gpus: int) -> list[int]:
    """The ports of every process on ``host`` (``algo-N``) of the job ``request`` describes."""
    environment = request.get("Environment") or {}
    base = int(environment.get(job_debugger.PORT_ENV) or job_debugger.DEFAULT_PORT)
    per_host = processes_per_host(decoded_hyperparameters(request), gpus) or 1
    index = job_debugger.host_index(host, [])
    return [job_debugger.rank_port(base, index, per_host, rank) for rank in range(per_host)]

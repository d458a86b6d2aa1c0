"""What the benchmarks share: their command line, a loopback AWS endpoint and a wall-clock timer."""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def argument_parser(
    doc: str | None, repeat: int | None = None, repeat_help: str = ""
) -> argparse.ArgumentParser:
    """A parser whose ``--help`` shows the benchmark's docstring as written; ``--repeat`` when given one."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if repeat is not None:
        parser.add_argument("--repeat", type=int, default=repeat, help=repeat_help)
    return parser


@contextmanager
def loopback_aws(region: str = "us-east-1") -> Iterator[dict[str, str]]:
    """moto's server on 127.0.0.1 for the block, with this process's environment pointing at it.

    Yields the environment (this process's, updated) for the commands the benchmark starts.
    """
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # moto's per-request log and errors
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://{host}:{port}",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION=region,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    try:
        yield dict(os.environ)
    finally:
        server.stop()


def best_seconds(command: list[str], repeat: int) -> float:
    """Fastest wall time of ``command``, run in the repository root, over ``repeat`` runs; all must pass."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return min(times)

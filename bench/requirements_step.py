"""What host mode's requirements step costs a run, measured side by side in one run.

    python bench/requirements_step.py [--repeat 5]

Host mode does what the container does at job start: make SOURCE_DIR/requirements.txt importable.
Each case is the median of ``--repeat`` timings of ``prepare_environment`` in this process:

- the digits example's requirements, all met by the launcher's environment: the first run asks
  pip's dry run (no index) once, later runs find the cache's marker;
- a requirement the environment lacks, installed from a local wheel (no network) into a cached
  virtual environment on the first run, reused by later runs.

The bare way is what the container runs at every start, ``pip install -r requirements.txt`` on
requirements already met, as a fresh process. Target: a cache hit under 0.5 s.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_support import argument_parser

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "tests")]
from support.own_code import write_wheel  # noqa: E402

from sagemaker_launcher.local.requirements import prepare_environment  # noqa: E402


def median_seconds(action: Callable[[], object], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    parser = argument_parser(__doc__, 5, "timings per case (median shown)")
    repeat = parser.parse_args().repeat
    work = Path(tempfile.mkdtemp(prefix="requirements-bench-"))
    quiet: Callable[[str], None] = lambda _line: None  # noqa: E731
    try:
        example = REPO_ROOT / "sagemaker_container"
        extra = work / "code"
        write_wheel(extra / "wheels", "smbench-extra", "1.0", "ANSWER = 42\n")
        requirements = "--no-index\n--find-links wheels\nsmbench-extra==1.0\nnumpy\n"
        (extra / "requirements.txt").write_text(requirements)
        cache = work / "cache"

        def first_run(source_dir: Path) -> Callable[[], object]:
            def run() -> object:
                shutil.rmtree(cache, ignore_errors=True)
                return prepare_environment(source_dir, cache, quiet)

            return run

        bare_command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        bare_command += ["-r", str(example / "requirements.txt")]
        figures = {
            "bare: pip install -r (all met), as the container does": median_seconds(
                lambda: subprocess.run(bare_command, check=True), repeat
            ),
            "example's requirements, first run (pip's dry run says met)": median_seconds(
                first_run(example), repeat
            ),
            "example's requirements, later runs": median_seconds(
                lambda: prepare_environment(example, cache, quiet), repeat
            ),
            "missing requirement, first run (environment made, local wheel)": median_seconds(
                first_run(extra), max(1, repeat // 2)
            ),
        }
        figures["missing requirement, later runs (cached environment)"] = median_seconds(
            lambda: prepare_environment(extra, cache, quiet), repeat
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    bare = next(iter(figures.values()))
    print(f"{'case':<66} {'seconds':>8} {'ratio':>6}")
    for case, seconds in figures.items():
        print(f"{case:<66} {seconds:>8.4f} {seconds / bare:>6.3f}")


if __name__ == "__main__":
    main()

"""Code the launcher imports from a team's folder (its TRAINING.DEFAULTS module) cannot take it over:
an exit, output, a hang, an exception or a thread of its own each end as one paragraph, or not at all,
and a dry run's stdout stays the request alone."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from support.commands import REPO_ROOT, python_command, write_yaml

GOOD_DEFAULTS = """
from yacs.config import CfgNode

def get_cfg():
    cfg = CfgNode()
    cfg.SOLVER = CfgNode()
    cfg.SOLVER.LR = 0.1
    return cfg
"""


def project(tmp_path: Path, prelude: str, rules: str = "") -> Path:
    """A team's code folder whose defaults module runs ``prelude`` on import."""
    code = tmp_path / "code"
    (code / "team").mkdir(parents=True)
    (code / "team" / "__init__.py").write_text("")
    (code / "team" / "config.py").write_text(prelude + GOOD_DEFAULTS + rules)
    (code / "train.py").write_text("print('training')\n")
    return write_yaml(
        tmp_path / "job.yaml",
        {
            "_BASE_": str(REPO_ROOT / "configs/team_base.yaml"),
            "SAGEMAKER": {"SOURCE_DIR": str(code), "ENTRY_POINT": "train.py"},
            "TRAINING": {"DEFAULTS": "team.config:get_cfg"},
        },
    )


def dry_run(config: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        python_command("--config", str(config), "--dry-run"),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "AWS_ENDPOINT_URL_PRICING": "http://127.0.0.1:9", **environment},
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("prelude", "expected"),
    [
        ("import sys\nsys.exit(0)\n", "called exit(0)"),
        ("raise SystemExit('bye')\n", "called exit('bye')"),
        ("raise RuntimeError('cannot find the dataset server')\n", "failed with RuntimeError: cannot find"),
        ("while True:\n    pass\n", "did not finish within 2 s"),
    ],
    ids=["exit 0", "exit with text", "an exception", "a hang"],
)
def test_a_defaults_module_that_exits_hangs_or_raises_is_one_paragraph(
    tmp_path: Path, prelude: str, expected: str
) -> None:
    started = time.monotonic()
    done = dry_run(project(tmp_path, prelude), SM_LAUNCHER_CODE_TIME_LIMIT="2")
    assert done.returncode == 1 and done.stdout == "", done.stdout
    assert expected in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert "importing TRAINING.DEFAULTS = 'team.config:get_cfg'" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert time.monotonic() - started < 30


def test_what_a_defaults_module_prints_leaves_the_dry_runs_json_alone(tmp_path: Path) -> None:
    prelude = "import os\nprint('hello from the module')\nos.write(1, b'raw bytes on fd 1\\n')\n"
    done = dry_run(project(tmp_path, prelude))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["TrainingJobName"]
    assert "hello from the module" in done.stderr and "raw bytes on fd 1" in done.stderr


def test_value_rules_that_raise_or_return_nonsense_are_one_paragraph(tmp_path: Path) -> None:
    raising = "\ndef value_problems(cfg):\n    raise KeyError('SOLVER.MISSING')\n"
    done = dry_run(project(tmp_path, "", raising))
    assert done.returncode == 1 and "value_problems() of" in done.stderr
    assert "failed with KeyError: 'SOLVER.MISSING'" in done.stderr and "Traceback" not in done.stderr
    nonsense = "\ndef value_problems(cfg):\n    return 'SOLVER.LR is odd'\n"
    done = dry_run(project(tmp_path / "again", "", nonsense))
    assert done.returncode == 1 and "returned str; it must return a list of texts" in done.stderr


def test_a_thread_the_module_leaves_running_does_not_keep_the_launcher_alive(tmp_path: Path) -> None:
    prelude = "import threading, time\nthreading.Thread(target=time.sleep, args=(600,)).start()\n"
    started = time.monotonic()
    done = dry_run(project(tmp_path, prelude))
    assert done.returncode == 0 and json.loads(done.stdout), done.stderr
    assert time.monotonic() - started < 30, "the launcher waited for the module's thread"

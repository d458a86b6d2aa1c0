"""The launcher's shape: its layers import only downwards, and light commands load nothing heavy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from support.commands import REPO_ROOT


def test_layers_import_only_downwards() -> None:
    """.importlinter: cli > launch | jobs | local > config | aws > spec, siblings never meeting."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint_imports), "--config", ".importlinter"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def _loaded_after(arguments: str) -> set[str]:
    """Top-level packages loaded by running the command line with ``arguments`` in a fresh interpreter."""
    script = (
        "import sys\n"
        "from sagemaker_launcher.cli import cli\n"
        "try:\n"
        f"    cli({arguments}, standalone_mode=False)\n"
        "except BaseException:\n"
        "    pass\n"
        "print(' '.join(sorted({name.split('.')[0] for name in sys.modules})))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True)
    return set(done.stdout.split())


def test_help_and_a_validation_error_load_neither_boto3_nor_torch_nor_the_sagemaker_sdk() -> None:
    """Validation reads the service model's JSON with botocore's loader, but makes no client."""
    heavy = {"boto3", "torch", "sagemaker"}
    for arguments in (
        ["--help"],
        ["--config", "configs/sagemaker_config.yaml", "SAGEMAKER.INSTANCE_COUNT", "0"],
    ):
        loaded = _loaded_after(repr(arguments))
        assert "click" in loaded, loaded
        assert not loaded & heavy, (arguments, loaded & heavy)

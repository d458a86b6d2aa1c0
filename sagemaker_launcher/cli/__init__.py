"""The command line: the ``cli`` group and its commands, the one place that speaks click.

``group`` holds the group (default command ``launch``), its error edge and the helpers commands
share; ``launch_commands`` starts jobs, ``job_commands`` looks at past ones, ``debug_commands``
reaches into running ones. Commands parse options
and print; the work lives in the other subpackages, which raise plain ``LauncherError``.
"""

from sagemaker_launcher.cli import debug_commands, job_commands, launch_commands
from sagemaker_launcher.cli.group import cli, run

__all__ = ["cli", "debug_commands", "job_commands", "launch_commands", "run"]

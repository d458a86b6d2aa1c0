"""The launcher's one error type for problems the user can fix.

It is a plain exception, so config, validation, storage and archive code need no CLI library; the
command line's edge (``sagemaker_launcher.cli``) prints it as ``Error: <message>`` and exits 1.
"""

# The command users type, quoted where a message says what to run next.
CLI_COMMAND = "python run_sagemaker_job.py"


class LauncherError(Exception):
    """A user-fixable problem, told in one paragraph that names the file, key or value and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

"""Error types that decide how a failure is reported.

A ``UserError`` is something the user fixes in their config or data: its message alone goes to
the failure file. Any other exception is internal and is reported with its innermost frames.
"""


class UserError(Exception):
    """A problem in the job's config, hyperparameters or data; the message says what to fix."""


class ConfigError(UserError):
    """An unknown key or a bad value in the training config or the hyperparameters."""


class DataError(UserError):
    """A missing or malformed data channel file."""


class StoppedBySignal(Exception):
    """SIGTERM arrived (spot interruption or StopTrainingJob) and a checkpoint was saved."""

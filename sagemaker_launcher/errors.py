"""The launcher's one error type for problems the user can fix."""

import click


class LauncherError(click.ClickException):
    """A user-fixable problem: the CLI prints ``Error: <message>`` and exits 1, no traceback.

    Messages are one paragraph that names the file, key or value at fault and what to do.
    """

"""A click group whose default command is ``launch``, so ``--config FILE KEY VALUE`` needs no verb."""

from __future__ import annotations

import click

ARGUMENTS_KEY = "sm_launcher.arguments"


class DefaultCommandGroup(click.Group):
    """Runs ``default_command`` when the first argument names no command (and is not ``--help``).

    The arguments as given are kept in ``ctx.meta[ARGUMENTS_KEY]`` for the experiment record.
    """

    def __init__(self, *args, default_command: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.default_command = default_command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[ARGUMENTS_KEY] = list(args)
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)

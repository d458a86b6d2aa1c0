"""The contract's one error, plain so that each side turns it into its own (the launcher's
``LauncherError``, the image's failure file)."""


class ConfigError(ValueError):
    """A config file, value or hyperparameter that breaks the rules; the message is one paragraph
    naming the source, the key and the value."""

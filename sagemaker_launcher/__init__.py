"""Launcher for SageMaker training jobs defined by YAML experiment files.

The subpackages follow a job's life; each one's docstring says what it offers:

- ``config``: defaults + YAML + ``KEY VALUE`` resolved into two configs, checked before AWS is touched;
- ``launch``: the plan, the record and the all-or-nothing launch (sweeps and tuning too);
- ``local``: the same job on this machine, as processes or in Docker;
- ``jobs``: past jobs found, listed, shown, fetched, reproduced and compared;
- ``aws``: the SDK, boto3 clients, their faults in words, and storage;
- ``cli``: the command line, the one place that speaks click; commands parse and print, nothing more.

Beside them: ``errors`` (the one error users see) and ``terminal_text`` (safe printing). The names
the launcher shares with the training image, and the one config merger, live in the image's own
code: ``sagemaker_container/sagemaker_contract``.
"""

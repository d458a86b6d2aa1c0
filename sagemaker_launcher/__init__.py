"""Launcher for SageMaker training jobs defined by YAML experiment files.

A job is described once (``spec``), and one request derived from it is what every mode runs. The
subpackages, top to bottom (nothing imports upwards); each one's docstring says what it offers:

- ``cli``: the command line, the one place that speaks click; commands parse and print, nothing more;
- ``launch``: the all-or-nothing launch and its undo, the dry run's cost bound, sweeps and tuning;
- ``jobs``: past jobs found, listed, shown, fetched, compared, attached to and reproduced;
- ``local``: the same request run on this machine, as processes or in Docker;
- ``aws``: boto3 clients, their faults in words, S3, training jobs, ECR and the Price List;
- ``config``: defaults + YAML + ``KEY VALUE`` resolved, checked before AWS is touched, made a spec;
- ``spec``: the frozen job spec, the request, the record and the layout, with no I/O.

Beside them: ``errors`` (the one error users see), ``interrupts`` (Ctrl-C, SIGTERM and SIGHUP alike)
and ``terminal_text`` (safe printing). The names the launcher shares with the training image, and the
one config merger, live in the image's own code: ``sagemaker_container/sagemaker_contract``.
"""

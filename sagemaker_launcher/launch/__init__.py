"""Launching: from resolved configs to files in S3 and a created training job, all or nothing.

``sequence`` is the launch (``resolve``, ``launch_on_sagemaker``, ``dry_run_request``); ``plan``
decides names, storage layout, tags and hyperparameters before any call; ``record`` and
``redaction`` write who launched what from which commit; ``distribution`` says how many processes
each host runs; ``cost`` bounds what a job may cost for ``--dry-run``; ``sweeps`` plans many jobs
from one ``SWEEP`` section, ``sweep_runs`` launches them and ``tuning`` hands a bayesian sweep to
SageMaker's tuner.
"""

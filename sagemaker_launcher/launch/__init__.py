"""Launching: from a job spec to files in S3 and a created training job, all or nothing.

``sequence`` is the launch (``resolve``, ``launch_on_sagemaker``, ``dry_run_request``) and ``undo``
removes what a failed or interrupted one wrote, once SageMaker says the job does not exist; ``cost``
bounds what a job may cost for ``--dry-run``; ``sweeps`` plans many jobs from one ``SWEEP`` section,
``sweep_runs`` launches them and ``tuning`` hands a bayesian sweep to SageMaker's tuner.
"""

"""Launching: from resolved configs to files in S3 and a created training job, all or nothing.

``sequence`` is the launch (``resolve``, ``launch_on_sagemaker``, ``dry_run_request``); ``plan``
decides names, storage layout, tags and hyperparameters before any call; ``record`` and
``redaction`` write who launched what from which commit; ``distribution`` says how many processes
each host runs; ``sweeps`` and ``tuning`` launch many jobs from one ``SWEEP`` section.
"""

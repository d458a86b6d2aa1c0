"""Launcher for SageMaker training jobs defined by YAML experiment files.

One module per concern, grouped by what they serve:

- configs: ``yaml_reading`` (safe, bounded YAML with values as written), ``config_loading``
  (defaults + YAML + overrides), ``training_defaults`` (TRAINING.DEFAULTS), ``validation`` and
  ``service_limits`` (everything checked before AWS is touched), ``run_modes`` (where a job runs);
- launching: ``job_plan`` (names, layout, hyperparameters), ``record`` and ``redaction`` (who
  launched what from which commit), ``storage`` (uploads), ``sagemaker_job`` (the only module that
  calls the SageMaker SDK) and ``launch`` (the sequence);
- local runs: ``local_runs``, ``local_process``, ``local_layout``, ``local_requirements``,
  ``local_container``;
- past jobs: ``job_lookup``, ``job_listing``, ``job_report``, ``job_timing``, ``job_logs``,
  ``job_actions``, ``job_reproduction``, ``archives``, with ``aws_errors`` and ``terminal_text`` for
  what they print.
"""

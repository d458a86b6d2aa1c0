"""Launcher for SageMaker training jobs defined by YAML experiment files.

One module per concern: ``config_loading`` (defaults + YAML + overrides), ``validation``
(everything checked before AWS is touched), ``job_plan`` (names, S3 layout, the request's
ingredients), ``record`` (who launched what from which commit), ``s3_storage`` (uploads),
``sagemaker_job`` (the only module that calls the SageMaker SDK) and ``launch`` (the sequence).
"""

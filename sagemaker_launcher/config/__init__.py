"""Configs: from defaults, YAML files and ``KEY VALUE`` pairs to two checked, resolved configs.

``loading.load_configs`` resolves, ``validation.validate`` checks everything before AWS is touched
(``resource_checks``, ``payload_checks`` and ``field_checks`` hold the checks).
Files are read and merged by the code the training image runs too (``sagemaker_container.
sagemaker_contract``: ``yaml_reading`` and ``merging``); ``training_defaults`` finds the training
defaults (``TRAINING.DEFAULTS``), ``service_limits`` holds the API's own field limits and
``run_modes`` says where a job runs and which code it runs.
"""

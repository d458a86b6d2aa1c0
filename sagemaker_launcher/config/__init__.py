"""Configs: from defaults, YAML files and ``KEY VALUE`` pairs to two checked configs and a job spec.

``loading.load_configs`` resolves; ``sdk_defaults`` fills what a team's SageMaker SDK defaults file
sets; ``validation.validate`` checks everything before AWS is touched (``resource_checks``,
``payload_checks``, ``field_checks`` and ``debugger_checks`` hold the checks); ``spec_building`` makes
the frozen job spec. Files are read and merged by the code the training image runs too
(``sagemaker_container.sagemaker_contract``: ``yaml_reading`` and ``merging``); ``training_defaults``
finds the training defaults (``TRAINING.DEFAULTS``), imported under ``contained``'s bounds, and
``run_modes`` says where a job runs.
"""

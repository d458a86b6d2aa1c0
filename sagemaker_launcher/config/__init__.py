"""Configs: from defaults, YAML files and ``KEY VALUE`` pairs to two checked, resolved configs.

``loading.load_configs`` resolves, ``validation.validate`` checks everything before AWS is touched.
``yaml_reading`` reads one file safely, ``training_defaults`` finds the training defaults
(``TRAINING.DEFAULTS``), ``service_limits`` holds the API's own field limits and ``run_modes`` says
where a job runs and which code it runs.
"""

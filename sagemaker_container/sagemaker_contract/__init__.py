"""What the launcher and the training image share, shipped inside the image's code folder.

``names`` holds every path, channel, file, variable and SDK hyperparameter name both sides use;
``merging`` merges YAML and hyperparameters over YACS defaults with one set of type rules, reading
YAML through ``yaml_reading``; ``errors`` is the one plain error both raise. The launcher imports it
as ``sagemaker_container.sagemaker_contract``, the image as ``sagemaker_contract``; neither click
nor torch is needed.
"""

"""The digits example's training code, run by ``main.py``: one concern per module.

``job_config`` resolves the training config (by the launcher's own rules, ``sagemaker_contract``);
``job`` trains with ``distributed``, ``precision``, ``digits_data``, ``builders``, ``engine``, ``rng``
and ``preemption``, checkpoints with ``checkpoints`` and writes the model (``export``, serving code in
``inference``), ``metrics`` and their TensorBoard event files (``tensorboard_log``). ``paths`` locates
the contract's files; ``failure`` and ``job_errors`` turn any error into SageMaker's failure file.
"""

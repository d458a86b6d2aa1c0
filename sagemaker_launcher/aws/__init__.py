"""Everything that speaks to AWS: the SageMaker SDK (``sagemaker_sdk``, its only caller), boto3
clients and their faults in words (``faults``), and object storage (``storage``).

boto3 and the SDK are imported inside functions, so commands that never reach AWS never pay for them.
"""

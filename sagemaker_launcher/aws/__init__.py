"""Everything that speaks to AWS: the SageMaker SDK (``sagemaker_sdk``, its only caller), boto3
clients (``clients``) and their faults in words (``faults``), object storage (``storage``) and
on-demand instance prices from the AWS Price List (``prices``).

boto3 and the SDK are imported inside functions, so commands that never reach AWS never pay for them.
"""

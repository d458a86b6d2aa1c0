"""Everything that speaks to AWS, with boto3 only: clients (``clients``) and their faults in words,
"not found" as each service says it (``faults``), object storage and the code archive (``storage``),
training and tuning jobs (``training_jobs``), image digests from ECR (``images``) and on-demand
instance prices from the AWS Price List (``prices``).

boto3 is imported inside functions, so commands that never reach AWS never pay for it.
"""

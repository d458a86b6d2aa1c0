"""What the tests share: the AWS endpoint's names and contents (``aws``), AWS's own answers and faults
injected on the wire (``aws_dialect``), running the CLI (``commands``), the training container's trees
(``container``), Docker checks (``docker``), teams' own code (``own_code``) and the SageMaker SDK as the
request oracle (``sdk_oracle``)."""

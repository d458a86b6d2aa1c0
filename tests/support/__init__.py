"""What the tests share: the AWS endpoint's names and contents (``aws``), running the CLI
(``commands``), the training container's trees (``container``), Docker checks (``docker``), faults
injected on the wire (``faulty_proxy``) and teams' own code (``own_code``)."""

"""The job described once, and what is derived from it without I/O: the bottom layer of the launcher.

``job`` holds the frozen ``JobSpec``; ``request`` turns it into the CreateTrainingJob (or tuning) request
every mode runs; ``service_model`` checks fields and requests against the API's own model; ``record``
(with ``redaction`` and ``git``) says who launched what; ``layout`` names a job's files and tags;
``code_folder`` says which files of the code folder a job gets; ``statuses`` names job states.
Everything above imports these; they import nothing above them.
"""

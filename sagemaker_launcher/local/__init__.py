"""Running a job on this machine, laid out the way SageMaker lays it out.

``runs`` picks the mode; ``processes`` is host mode (plain processes, no Docker), ``container`` is
Docker local mode through the SDK; ``layout`` builds each host's ``/opt/ml`` tree,
``requirements`` installs the code's requirements for host mode, and ``past_runs`` reads finished
runs back for ``compare``.
"""

"""Running a job on this machine from its request, laid out the way SageMaker lays it out.

``runs`` is the entry: it records the job, runs it in its mode and keeps ``status.json``;
``host_trees`` writes each host's ``/opt/ml`` tree from the request; ``host_mode`` starts the entry
point as plain processes (or torchrun), ``docker_mode`` as one container per host; ``processes`` waits
for them and stops them together, ``streams`` prefixes their lines; ``requirements`` gives host mode a
cached environment with the code's requirements; ``debugger_ports`` says which ports a run's
debugger serves; ``parity`` compares what a script sees in both modes.
"""

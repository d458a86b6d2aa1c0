"""Past jobs, SageMaker and local: find, list, show, follow, stop, fetch, attach, reproduce and compare.

``lookup`` finds one job and what its launch recorded, ``local_runs`` reads a local run's folder;
``listing``, ``report``, ``timing`` and ``logs`` show jobs; ``actions`` stops and fetches (safely
unpacked by ``archives`` and ``link_paths``); ``attach`` and ``debugger_session`` reach a running
job's debugger; ``reproduction`` re-launches from the record; ``compare``, ``metric_series`` and
``compare_plot`` set jobs side by side, and ``sweep_jobs`` finds a sweep's jobs by its tag.
"""

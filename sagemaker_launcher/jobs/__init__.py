"""Past jobs, SageMaker and local: find, list, show, follow, stop, fetch, reproduce and compare.

``lookup`` finds one job and what its launch recorded; ``listing``, ``report``, ``timing`` and
``logs`` show jobs; ``actions`` stops and fetches (safely unpacked by ``archives`` and
``link_paths``); ``reproduction`` re-launches from the record; ``compare``, ``metric_series`` and
``compare_plot`` set jobs side by side, and ``sweep_jobs`` finds a sweep's jobs by its tag; job
states are named once in ``statuses``.
"""

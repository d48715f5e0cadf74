"""Background work: jobs kept in the database, claimed with leases, a sweeper and a scheduler tick.

* :mod:`~resonanz.worker.models` — the ``job`` table.
* :mod:`~resonanz.worker.queue` — enqueue (in the caller's transaction, deduplicated), claim,
  heartbeat, complete, fail with backoff and dead letters, sweep, retry, cancel.
* :mod:`~resonanz.worker.scheduler` — the tick that turns due sources into ``source.pull`` jobs.
* :mod:`~resonanz.worker.tasks` — job kinds and their handlers (:func:`register_task`).
* :mod:`~resonanz.worker.runner` — the worker loop, the in-process pool, :func:`drain`.
"""

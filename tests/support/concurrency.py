"""Requests at the same moment, for the threaded tests of what two users do at once (run on PostgreSQL)."""

import threading

from django.db import connection


def at_once(*jobs) -> list:
    """Run the jobs in threads released together; their results in order (an exception is re-raised). Each thread
    closes its own database connection when its job ends."""
    start, results = threading.Barrier(len(jobs)), [None] * len(jobs)

    def run(i, job):
        try:
            start.wait()
            results[i] = job()
        except BaseException as exc:  # noqa: BLE001 — raised in the test's thread below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results

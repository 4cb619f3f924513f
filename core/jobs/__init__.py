"""Background jobs: the manager the pages hold, job state on disk, the worker process."""

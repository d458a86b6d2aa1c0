"""A training job's states, as the service names them in TrainingJobStatus (no imports: --help reads them)."""

JOB_STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped")
ENDED_STATUSES = frozenset({"Completed", "Failed", "Stopped"})
RUNNING_STATUSES = frozenset(JOB_STATUSES) - ENDED_STATUSES

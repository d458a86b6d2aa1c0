"""A past sweep's jobs, found by its tag: local runs under the runs folder, or SageMaker jobs.

``compare --sweep`` ranks them by the objective the sweep recorded in its tag.
"""

from __future__ import annotations

from pathlib import Path

from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.spec.layout import GOALS, TAG_SWEEP, TAG_SWEEP_OBJECTIVE


def sweep_members(sweep_id: str, region: str | None, runs_dir: Path) -> tuple[list[str], str | None]:
    """The jobs of a sweep, as ``compare`` names them, and its objective tag: local runs under
    ``runs_dir`` when it has any, else SageMaker jobs carrying the tag."""
    from sagemaker_launcher.jobs.local_runs import local_runs_tagged

    runs = local_runs_tagged(runs_dir, TAG_SWEEP, sweep_id)
    if runs:
        return [str(run.folder) for run in runs], runs[0].tags.get(TAG_SWEEP_OBJECTIVE)
    jobs = tagged_sagemaker_jobs(sweep_id, region)
    if not jobs:
        raise LauncherError(
            f"No jobs of sweep '{sweep_id}': no local run under {runs_dir} and no training job in "
            f"{region or 'the default region'} has the tag {TAG_SWEEP}={sweep_id}. Check the id the sweep "
            "printed, pass --runs-dir for a local sweep or --region for a SageMaker one."
        )
    return [name for name, _ in jobs], jobs[0][1].get(TAG_SWEEP_OBJECTIVE)


def tagged_sagemaker_jobs(sweep_id: str, region: str | None) -> list[tuple[str, dict[str, str]]]:
    """(name, tags) of every training job with the sweep's tag, oldest first (one Search per 100 jobs)."""
    from sagemaker_launcher.aws.clients import aws_client
    from sagemaker_launcher.aws.faults import aws_errors

    request = {
        "Resource": "TrainingJob",
        "SearchExpression": {
            "Filters": [{"Name": f"Tags.{TAG_SWEEP}", "Operator": "Equals", "Value": sweep_id}]
        },
        "SortBy": "CreationTime",
        "SortOrder": "Ascending",
        "MaxResults": 100,
    }
    found = []
    with aws_errors(f"Searching the jobs of sweep {sweep_id}", "sagemaker:Search"):
        for page in aws_client("sagemaker", region).get_paginator("search").paginate(**request):
            for result in page.get("Results", []):
                job = result.get("TrainingJob", {})
                tags = {tag["Key"]: tag["Value"] for tag in job.get("Tags", [])}
                # Checked again: some endpoints apply only part of a search expression.
                if tags.get(TAG_SWEEP) == sweep_id:
                    found.append((job["TrainingJobName"], tags))
    return found


def parse_objective(tag: str | None) -> tuple[str, str] | None:
    """``"maximize validation:accuracy"`` -> ``("validation:accuracy", "maximize")``."""
    goal, _, metric = (tag or "").partition(" ")
    return (metric, goal) if goal in GOALS and metric else None

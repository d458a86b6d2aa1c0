"""Undoing a launch that failed or was interrupted, without ever removing a job's files while it runs.

Before removing anything, the undo asks SageMaker whether the job exists (a create request cut off or
interrupted may still have reached it), for a few seconds, since a job just created can be "not found"
for a moment; when SageMaker cannot be asked, the files stay and the message says so. Removal retries
through short outages, aborts unfinished multipart uploads, and names every object S3 refused to remove.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from typing import Any

from sagemaker_launcher.aws.faults import aws_fault_message
from sagemaker_launcher.aws.storage import JobStorage, Removal
from sagemaker_launcher.aws.training_jobs import JobKind, exists_eventually
from sagemaker_launcher.errors import CLI_COMMAND, LauncherError
from sagemaker_launcher.interrupts import ignoring_interrupts

# How long removal keeps retrying through a network outage.
REMOVAL_SECONDS = 20.0
_REMOVAL_PAUSE_S = 1.0
# Refused objects named one by one; the rest are counted.
_NAMED_REFUSALS = 3
# A create answered with one of these did reach SageMaker: a retry after a lost answer meets its own job.
_MAYBE_CREATED_CODES = frozenset({"ResourceInUse"})


def clean_up_command(prefix: str) -> str:
    return f"{CLI_COMMAND} clean-up {prefix}"


class Undo:
    """Removes a failed launch's files under ``prefix``, unless its job exists after all."""

    def __init__(self, storage: JobStorage, sagemaker: Any, kind: JobKind, name: str, prefix: str) -> None:
        self.storage, self.sagemaker, self.kind, self.name, self.prefix = (
            storage,
            sagemaker,
            kind,
            name,
            prefix,
        )
        self._sent = False
        self._refused = False

    def create_sent(self) -> None:
        """The create request is about to leave: from now on the job may exist."""
        self._sent = True

    def create_refused(self) -> None:
        """SageMaker answered the create with a refusal: the job does not exist."""
        self._refused = True

    @contextmanager
    def on_failure(self) -> Iterator[None]:
        """Run the undo when the block fails or is interrupted, and add what it did to the error."""
        try:
            yield
        except (Exception, KeyboardInterrupt) as error:
            with ignoring_interrupts():
                outcome = self.outcome()
            if isinstance(error, LauncherError):
                raise LauncherError(f"{error.message} {outcome}") from None
            if isinstance(error, KeyboardInterrupt):
                raise KeyboardInterrupt(outcome) from None
            raise

    def outcome(self) -> str:
        """Remove what the launch wrote unless the job exists; one sentence on what is left."""
        if self._sent and not self._refused:
            exists = exists_eventually(self.sagemaker, self.kind, self.name)
            if exists:
                follow_up = self.kind.follow_up.format(name=self.name)
                return (
                    f"{self.kind.noun.capitalize()} {self.name} was created all the same (its create request "
                    f"reached SageMaker), so its files under {self.prefix} were kept: see it with "
                    f"'{CLI_COMMAND} {follow_up}'."
                )
            if exists is None:
                return (
                    f"Whether {self.kind.noun} {self.name} was created is unknown (SageMaker could not be "
                    f"asked), so its files under {self.prefix} were kept. Check with '{CLI_COMMAND} show "
                    f"{self.name}'; if there is no such job, remove them with "
                    f"'{clean_up_command(self.prefix)}'."
                )
        return self._remove()

    def _remove(self) -> str:
        deadline = time.monotonic() + REMOVAL_SECONDS
        while True:
            try:
                return removal_sentence(self.storage.remove_prefix(self.prefix), self.prefix)
            except Exception as error:
                reason = aws_fault_message(error, "Cleaning up")
                transient = reason is not None and _transient(error)
                if transient and time.monotonic() < deadline:
                    time.sleep(_REMOVAL_PAUSE_S)
                    continue
                return (
                    f"No job was created, and its files under {self.prefix} could not be removed "
                    f"({reason or f'{type(error).__name__}: {error}'}). Remove them, with any unfinished "
                    f"uploads, by running '{clean_up_command(self.prefix)}'."
                )


def removal_sentence(removal: Removal, prefix: str) -> str:
    """What removing a failed launch's files did, in one or two sentences."""
    aborted = f" and {removal.aborted} unfinished upload(s) aborted" if removal.aborted else ""
    if not removal.refused:
        removed = f"the {removal.removed} file(s) it had written to S3 were removed{aborted}"
        return f"No job was created, and {removed}."
    named = ", ".join(f"{key} ({code})" for key, code, _ in removal.refused[:_NAMED_REFUSALS])
    more = len(removal.refused) - _NAMED_REFUSALS
    named += f" and {more} more" if more > 0 else ""
    return (
        f"No job was created; {removal.removed} file(s) it had written were removed{aborted}, but S3 refused "
        "to "
        f"remove {len(removal.refused)}: {named}. Removing them needs s3:DeleteObject on {prefix}* (and no "
        f"bucket policy that forbids it); once you have it, run '{clean_up_command(prefix)}'."
    )


def _transient(error: Exception) -> bool:
    """A failure that a moment may cure: a broken connection, a throttle, an error on the service's side."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(error, ConnectionError | HTTPClientError):
        return True
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return status >= 500 or "Throttl" in str(error.response.get("Error", {}).get("Code", ""))
    return False


def shielded(call: Callable[[], Any], operation: str, refused: Callable[[], None]) -> Any:
    """Run a create request on a worker thread; an interrupt while it is on its way waits for the answer.

    The request cannot be called back once sent, so the undo must know how it ended. ``refused`` is
    called when SageMaker refused it (a 4xx answer other than a name already in use).
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(call)
        try:
            return _answer(future, refused)
        except KeyboardInterrupt:
            with ignoring_interrupts():
                print(
                    f"\nInterrupted while {operation} was on its way: waiting for SageMaker's answer before "
                    "cleaning up.",
                    file=sys.stderr,
                    flush=True,
                )
                with suppress(Exception):
                    _answer(future, refused)
            raise


def _answer(future: Any, refused: Callable[[], None]) -> Any:
    from botocore.exceptions import ClientError

    try:
        return future.result()
    except ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        code = error.response.get("Error", {}).get("Code")
        if 400 <= status < 500 and code not in _MAYBE_CREATED_CODES:
            refused()
        raise

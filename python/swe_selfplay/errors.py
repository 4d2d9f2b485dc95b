"""One error base class; subclasses carry what a caller needs to report or recover."""

from __future__ import annotations


class SweSelfplayError(Exception):
    """Base of every error this package raises on purpose."""


class SampleError(SweSelfplayError):
    """A rollout record that breaks the rollout.v1 invariants; names the sample and every problem."""

    def __init__(self, sample_id: str, problems: list[str]):
        self.sample_id = sample_id
        self.problems = problems
        super().__init__(f"sample {sample_id}: {'; '.join(problems)}")


class RolloutDirectoryError(SweSelfplayError):
    """An exported step directory whose manifest, hashes or records do not agree."""


class ServiceError(SweSelfplayError):
    """Base of the errors talking to `swe-selfplay serve`."""


class ServiceUnavailable(ServiceError):
    """The service did not answer (refused, reset, timed out, 5xx) after every retry."""

    def __init__(self, url: str, attempts: int, cause: str):
        self.url = url
        self.attempts = attempts
        self.cause = cause
        super().__init__(f"{url}: no answer after {attempts} attempts ({cause})")


class ServiceRequestError(ServiceError):
    """The service refused the request (4xx): its error code, message and the bad field's path."""

    def __init__(self, url: str, status: int, code: str, message: str, path: str | None = None):
        self.url = url
        self.status = status
        self.code = code
        self.path = path
        where = f" at {path}" if path else ""
        super().__init__(f"{url}: {status} {code}{where}: {message}")


class StepFailed(ServiceError):
    """A step that ended failed or cancelled; `reason` is the service's."""

    def __init__(self, step_id: str, status: str, reason: str | None):
        self.step_id = step_id
        self.status = status
        self.reason = reason or ""
        super().__init__(f"step {step_id} {status}: {self.reason or 'no reason given'}")

"""swe-selfplay's Python side: a client for `swe-selfplay serve`, a reader for exported rollout
directories, the sample -> trainer-batch conversion, a reference LoRA policy-gradient trainer, and
adapters for verl and slime. Only the trainer needs torch; everything else is the standard library."""

from .errors import SampleError, ServiceError, ServiceRequestError, ServiceUnavailable, StepFailed
from .samples import Sample, parse_sample

__all__ = [
    "Sample",
    "SampleError",
    "ServiceError",
    "ServiceRequestError",
    "ServiceUnavailable",
    "StepFailed",
    "parse_sample",
]

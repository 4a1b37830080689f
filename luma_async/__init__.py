"""luma_async: an asyncio client for Luma video generation through the gateways people use."""

from ._callbacks import CallbackReceiver
from ._client import LumaClient
from ._errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    InvalidRequestError,
    LumaError,
    NotFoundError,
    PermissionDeniedError,
    PollTimeoutError,
    ProtocolError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    SubmissionUncertainError,
    TransportError,
    UnsupportedFeatureError,
)
from ._http import Timeout
from ._models import GenerateRequest, Generation, JobResult, State, VideoAsset
from ._retry import RetryPolicy
from ._version import __version__
from .dialects import Dialect

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "CallbackReceiver",
    "Dialect",
    "GenerateRequest",
    "Generation",
    "InvalidRequestError",
    "JobResult",
    "LumaClient",
    "LumaError",
    "NotFoundError",
    "PermissionDeniedError",
    "PollTimeoutError",
    "ProtocolError",
    "QuotaExceededError",
    "RateLimitError",
    "RetryPolicy",
    "ServerError",
    "State",
    "SubmissionUncertainError",
    "Timeout",
    "TransportError",
    "UnsupportedFeatureError",
    "VideoAsset",
    "__version__",
]

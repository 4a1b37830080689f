"""luma_async: an asyncio client for Luma video generation through the gateways people use."""

from ._callbacks import CallbackReceiver
from ._client import LumaClient
from ._errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    InvalidRequestError,
    JournalError,
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
from ._models import (
    GenerateRequest,
    Generation,
    ImageAsset,
    ImageRequest,
    JobResult,
    ModifyVideoRequest,
    ReframeImageRequest,
    ReframePosition,
    ReframeVideoRequest,
    State,
    VideoAsset,
)
from ._options import (
    AspectRatio,
    Duration,
    ImageFormat,
    ImageModel,
    ModifyMode,
    Resolution,
    VideoModel,
)
from ._retry import RetryPolicy
from ._updates import OnUpdate, Update
from ._version import __version__
from .dialects import Dialect

__all__ = [
    "APIError",
    "AspectRatio",
    "AuthenticationError",
    "BadRequestError",
    "CallbackReceiver",
    "Dialect",
    "Duration",
    "GenerateRequest",
    "Generation",
    "ImageAsset",
    "ImageFormat",
    "ImageModel",
    "ImageRequest",
    "InvalidRequestError",
    "JobResult",
    "JournalError",
    "LumaClient",
    "LumaError",
    "ModifyMode",
    "ModifyVideoRequest",
    "NotFoundError",
    "OnUpdate",
    "PermissionDeniedError",
    "PollTimeoutError",
    "ProtocolError",
    "QuotaExceededError",
    "RateLimitError",
    "ReframeImageRequest",
    "ReframePosition",
    "ReframeVideoRequest",
    "Resolution",
    "RetryPolicy",
    "ServerError",
    "State",
    "SubmissionUncertainError",
    "Timeout",
    "TransportError",
    "UnsupportedFeatureError",
    "Update",
    "VideoAsset",
    "VideoModel",
    "__version__",
]

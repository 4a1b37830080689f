"""The public surface: what API.md promises is importable, documented and nothing else leaks."""

from __future__ import annotations

import inspect

import luma_async

#: The names API.md says are importable from `luma_async`.
PROMISED = {
    "Update",
    "OnUpdate",
    "LumaClient",
    "CallbackReceiver",
    "GenerateRequest",
    "Generation",
    "State",
    "VideoAsset",
    "JobResult",
    "RetryPolicy",
    "Timeout",
    "LumaError",
    "TransportError",
    "SubmissionUncertainError",
    "ProtocolError",
    "APIError",
    "BadRequestError",
    "AuthenticationError",
    "QuotaExceededError",
    "PermissionDeniedError",
    "NotFoundError",
    "RateLimitError",
    "ServerError",
    "InvalidRequestError",
    "UnsupportedFeatureError",
    "PollTimeoutError",
    "JournalError",
    # API.md "More official operations".
    "ImageRequest",
    "ModifyVideoRequest",
    "ReframeVideoRequest",
    "ReframeImageRequest",
    "ReframePosition",
    "ImageAsset",
}


def test_all_is_sorted_and_complete() -> None:
    """__all__ is sorted, holds every promised name, and every entry exists."""
    names = list(luma_async.__all__)
    assert names == sorted(names)
    assert set(names) >= PROMISED
    assert all(hasattr(luma_async, name) for name in names)


def test_every_public_name_has_a_docstring() -> None:
    """Each public class and its public methods say what they are for."""
    for name in luma_async.__all__:
        value = getattr(luma_async, name)
        if not inspect.isclass(value):
            continue
        assert inspect.getdoc(value), name
        for attr, member in vars(value).items():
            if attr.startswith("_") or not callable(member):
                continue
            assert inspect.getdoc(member), f"{name}.{attr}"


def test_error_tree_matches_the_contract() -> None:
    """The exception tree of API.md, including the two builtin bases."""
    e = luma_async
    for cls in (e.TransportError, e.SubmissionUncertainError, e.ProtocolError, e.APIError):
        assert issubclass(cls, e.LumaError)
    for cls in (
        e.BadRequestError,
        e.AuthenticationError,
        e.QuotaExceededError,
        e.PermissionDeniedError,
        e.NotFoundError,
        e.RateLimitError,
        e.ServerError,
    ):
        assert issubclass(cls, e.APIError)
    assert issubclass(e.InvalidRequestError, ValueError)
    assert issubclass(e.PollTimeoutError, TimeoutError)

"""An S3 server (moto in server mode) for the session, and credentials the usual way."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

#: A secret that must never show up in a log line or an error.
SECRET = "never-log-this-secret-key"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The URL of a moto S3 server on a free loopback port."""
    moto_server = pytest.importorskip("moto.server")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moto's dependencies warn on import
        server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials from the environment, as botocore reads them everywhere."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing-key-id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def s3(s3_endpoint: str, s3_credentials: None) -> AsyncIterator[Any]:
    """A raw s3fs filesystem to look at what the sink left (and to make buckets)."""
    import s3fs

    fs = s3fs.S3FileSystem(asynchronous=True, skip_instance_cache=True, endpoint_url=s3_endpoint)
    await fs.set_session()
    yield fs
    await fs._s3.close()

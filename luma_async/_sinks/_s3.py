"""S3 (and S3-compatible stores) through s3fs, which runs on aiohttp (extra `s3`).

The file goes up as a multipart upload, one part per `part_size` bytes as they arrive (never
a full copy on local disk), completed only on `commit()`; `abort()` aborts the upload, so no
object ever appears under the final key unless it is complete. A file smaller than one part
is sent as a single PUT at commit. Credentials come from s3fs/botocore's usual sources
(environment, profile, instance role) or the `options` given to the sink, and are never
logged: only the bucket and key appear in messages.
"""

from __future__ import annotations

from typing import Any

import anyio

from ._names import check_name

__all__ = ["MIN_PART", "S3Sink", "S3Writer"]

#: S3 refuses parts below 5 MiB (except the last).
MIN_PART = 5 * 1024**2
_DEFAULT_PART = 8 * 1024**2


def _refused(exc: OSError, where: str, doing: str) -> OSError:
    """The store's error, said plainly with where it happened, of the same broad kind."""
    kind: type[OSError] = OSError
    for candidate in (PermissionError, FileNotFoundError):
        if isinstance(exc, candidate):
            kind = candidate
    return kind(f"{where}: {doing} refused: {exc}")


class S3Writer:
    """One object on its way up: parts uploaded as they fill, completed on commit."""

    def __init__(self, fs: Any, bucket: str, key: str, part_size: int) -> None:
        self.written = 0
        self._fs = fs
        self._bucket = bucket
        self._key = key
        self._part_size = part_size
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._done = False

    @property
    def where(self) -> str:
        """The object's URL."""
        return f"s3://{self._bucket}/{self._key}"

    async def _s3(self, method: str, doing: str, **kwargs: Any) -> Any:
        try:
            return await self._fs._call_s3(method, Bucket=self._bucket, Key=self._key, **kwargs)
        except OSError as exc:
            raise _refused(exc, self.where, doing) from None

    async def write(self, chunk: bytes) -> None:
        """Buffer `chunk`; upload a part whenever a whole one is there."""
        self._buffer += chunk
        self.written += len(chunk)
        while len(self._buffer) >= self._part_size:
            part = bytes(self._buffer[: self._part_size])
            del self._buffer[: self._part_size]
            await self._upload(part)

    async def _upload(self, part: bytes) -> None:
        if self._upload_id is None:
            started = await self._s3("create_multipart_upload", "starting an upload")
            self._upload_id = str(started["UploadId"])
        number = len(self._parts) + 1
        answer = await self._s3(
            "upload_part",
            "uploading a part",
            UploadId=self._upload_id,
            PartNumber=number,
            Body=part,
        )
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    async def restart(self) -> None:
        """Abort what went up and start over."""
        await self._abort_upload()
        self._buffer.clear()
        self.written = 0

    async def commit(self) -> str:
        """Complete the upload (or PUT a small file whole): the object appears only now."""
        try:
            if self._upload_id is None:
                await self._s3("put_object", "writing", Body=bytes(self._buffer))
            else:
                if self._buffer or not self._parts:
                    await self._upload(bytes(self._buffer))
                await self._s3(
                    "complete_multipart_upload",
                    "completing the upload",
                    UploadId=self._upload_id,
                    MultipartUpload={"Parts": self._parts},
                )
        except BaseException:
            await self.abort()
            raise
        self._done = True
        self._buffer.clear()
        return self.where

    async def abort(self) -> None:
        """Abort the multipart upload: its parts are dropped, no object is made."""
        if self._done:
            return
        self._done = True
        self._buffer.clear()
        await self._abort_upload()

    async def _abort_upload(self) -> None:
        upload_id, self._upload_id, self._parts = self._upload_id, None, []
        if upload_id is not None:
            with anyio.CancelScope(shield=True):
                await self._s3("abort_multipart_upload", "aborting the upload", UploadId=upload_id)


class S3Sink:
    """Downloads into `s3://bucket/prefix`."""

    def __init__(
        self, url: str, *, options: dict[str, Any] | None = None, part_size: int = _DEFAULT_PART
    ) -> None:
        rest = url.split("://", 1)[1]
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise ValueError(f"download_to={url!r}: no bucket")
        if part_size < MIN_PART:
            raise ValueError(f"part_size must be at least {MIN_PART} bytes (S3's minimum)")
        self.url = f"s3://{bucket}/{prefix}"
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.part_size = part_size
        self._options = dict(options or {})
        self._fs: Any = None

    def __repr__(self) -> str:
        return f"S3Sink({self.url!r})"

    def _key(self, name: str) -> str:
        name = check_name(name)
        return f"{self.prefix}/{name}" if self.prefix else name

    def location(self, name: str) -> str:
        """The final URL of `name`."""
        return f"s3://{self.bucket}/{self._key(name)}"

    async def open(self, name: str) -> S3Writer:
        """A writer for `prefix/name` (nothing is sent before the first full part)."""
        key = self._key(name)
        if self._fs is None:
            try:
                import s3fs  # type: ignore[import-untyped, unused-ignore]
            except ImportError as exc:  # pragma: no cover - the extra is installed in tests
                raise ImportError(
                    "download_to=s3://... needs: pip install 'luma_async[s3]'"
                ) from exc
            self._fs = s3fs.S3FileSystem(
                asynchronous=True, skip_instance_cache=True, **self._options
            )
            await self._fs.set_session()
        return S3Writer(self._fs, self.bucket, key, self.part_size)

    async def close(self) -> None:
        """Close the S3 client and its connections."""
        fs, self._fs = self._fs, None
        if fs is not None and fs._s3 is not None:
            await fs._s3.close()
            fs._s3 = None

"""The API key appears nowhere: not in logs, errors, tracebacks, reprs, results or files.

Every test gives the client one distinctive key, runs every operation its dialect has (and
provokes failures on each route), collects every text the client let out, and searches it.
"""

from __future__ import annotations

import base64
import logging
import pathlib
import re
import traceback
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

import pytest
from aiohttp import web

from luma_async import (
    AuthenticationError,
    BadRequestError,
    GenerateRequest,
    Generation,
    JobResult,
    LumaClient,
    LumaError,
    NotFoundError,
    PollTimeoutError,
    QuotaExceededError,
    RateLimitError,
    RetryPolicy,
    State,
    SubmissionUncertainError,
    TransportError,
    VideoAsset,
)
from luma_async._http import mask, mask_bytes
from luma_async.emulator import Faults

from ..conftest import FAST_RETRY, MakeClient, MakeEmulator, closed_port

pytestmark = pytest.mark.anyio

T = TypeVar("T")

#: The key under watch: distinctive enough that any piece of it found anywhere is a leak.
SECRET = "sk-LeakCanary-9c41e7b2d05a38f6e1"
#: What the emulator expects when the client's key must be refused.
OTHER_KEY = "sk-the-gateway-expects-this-one"
#: Every 10-character piece of the key: a masked-but-partial key still counts as a leak.
PIECES = frozenset(SECRET[i : i + 10] for i in range(len(SECRET) - 9))

RELAYS = ["anyapi", "rixapi", "xfusion", "gptge"]
ALL = ["official", *RELAYS]
FAULT_KINDS = ["http_500", "html_502", "reset", "truncated", "ambiguous_submit", "slow", "rate_429"]
#: Few, quick tries: the point is the error texts, not the recovery.
SHORT_RETRY = RetryPolicy(max_tries=2, max_time=0.5, base=0.001, cap=0.01)
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAAB"
    "JRU5ErkJggg=="
)
LUMA_LOGGER = "luma_async"


def leaks(text: str) -> bool:
    """True when `text` holds the key or a piece of it."""
    return any(piece in text for piece in PIECES)


class Witness:
    """Every text the client let out during a test, to search for the key in."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []
        self.errors: dict[str, BaseException] = {}
        self.results: dict[str, object] = {}

    def saw(self, label: str, obj: object) -> None:
        """Keep `repr()` and `str()` of an object the client handed out."""
        self.texts.append((f"repr({label})", repr(obj)))
        self.texts.append((f"str({label})", str(obj)))

    def raised(self, label: str, exc: BaseException, _seen: set[int] | None = None) -> None:
        """Keep an exception's str, repr, attributes and full traceback, and those it links to."""
        seen = set() if _seen is None else _seen
        if id(exc) in seen:
            return
        seen.add(id(exc))
        self.saw(label, exc)
        self.texts.append((f"vars({label})", repr(vars(exc))))
        self.texts.append((f"traceback({label})", "".join(traceback.format_exception(exc))))
        linked: list[object] = [exc.__cause__, exc.__context__, getattr(exc, "cause", None)]
        if isinstance(exc, BaseExceptionGroup):
            linked.extend(exc.exceptions)
        for n, other in enumerate(linked):
            if isinstance(other, BaseException):
                self.raised(f"{label}.linked[{n}]", other, seen)

    def job_results(self, label: str, results: Sequence[JobResult]) -> None:
        """Keep every `JobResult` of a `generate_many` run, and its error if it has one."""
        for result in results:
            self.saw(f"{label}[{result.index}]", result)
            if result.error is not None:
                self.raised(f"{label}[{result.index}].error", result.error)

    async def call(self, label: str, operation: Awaitable[T]) -> T | None:
        """Await one operation; keep what it returned or what it raised."""
        try:
            result = await operation
        except Exception as exc:
            self.errors[label] = exc
            self.raised(label, exc)
            return None
        self.results[label] = result
        self.saw(label, result)
        return result

    def assert_no_key(self, caplog: pytest.LogCaptureFixture, *files: pathlib.Path) -> None:
        """Search every kept text, every log record and every file for the key."""
        texts = list(self.texts)
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        for n, record in enumerate(caplog.records):
            # format() also fills exc_text from exc_info, as any real handler would.
            texts.append((f"log[{n}] {record.name}", formatter.format(record)))
            texts.append((f"log[{n}].exc_text", record.exc_text or ""))
            texts.append((f"log[{n}].args", repr(record.args)))
        texts.append(("caplog.text", caplog.text))
        for path in files:
            for file in [path] if path.is_file() else sorted(path.rglob("*")):
                if file.is_file():
                    texts.append((f"file {file.name}", file.read_bytes().decode("latin-1")))
        found = [label for label, text in texts if leaks(text)]
        assert found == [], f"the API key leaked into: {found}"
        assert len(texts) > len(caplog.records)  # something was searched at all


def client_parts(witness: Witness, c: LumaClient, retry: RetryPolicy) -> None:
    """The client and the objects it holds: their reprs must not show the key either."""
    witness.saw("client", c)
    witness.saw("transport", c.transport)
    witness.saw("dialect", c.dialect)
    witness.saw("retry", retry)


def watch_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Capture the root logger and the package logger at DEBUG."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger=LUMA_LOGGER)


def request_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The package's own log lines."""
    return [r.getMessage() for r in caplog.records if r.name.startswith(LUMA_LOGGER)]


def task_path(dialect: str, task_id: str) -> str:
    """The single-query path, as the request log line shows it."""
    return f"/generations/{task_id}" if dialect == "official" else f"/luma/generations/{task_id}"


def create_options(dialect: str) -> dict[str, Any]:
    """The options each dialect takes beyond the prompt and the images."""
    if dialect == "anyapi":
        return {"model": "ray-2", "resolution": "720p", "duration": "5s", "loop": True}
    if dialect == "official":
        return {"aspect_ratio": "16:9", "model": "ray-2", "resolution": "720p", "loop": False}
    if dialect == "xfusion":
        return {"aspect_ratio": "16:9", "expand_prompt": True}
    return {"aspect_ratio": "9:16", "loop": True, "expand_prompt": False}


async def poll_all(c: LumaClient, witness: Witness, ids: list[str], limit: float) -> list[str]:
    """Poll `ids` to the end (or `limit` seconds); keep the stream and every generation."""
    done: list[str] = []
    async with c.poll(ids, timeout=limit, interval=0.05) as stream:
        witness.saw("poll stream", stream)
        async for generation in stream:
            witness.saw(f"polled {generation.id}", generation)
            done.append(generation.id)
        witness.saw("poll counts", stream.counts)
    return done


async def run_many(c: LumaClient, requests: list[GenerateRequest | str], **options: Any) -> Any:
    """A whole `generate_many` run, as a list of its results.

    Submits that meet 429s are queued again until `submit_deadline`: a short one here, so that
    a gateway answering 429 to everything ends the run soon.
    """
    options.setdefault("submit_deadline", 1.0)
    async with c.generate_many(requests, **options) as results:
        return [result async for result in results]


async def every_operation(
    c: LumaClient,
    witness: Witness,
    *,
    dialect: str,
    done: str,
    spare: str,
    image: pathlib.Path,
    dest: pathlib.Path,
    poll_timeout: float,
) -> None:
    """Each operation the dialect has, once: `done` is a finished task, `spare` one to delete."""
    w = witness
    dest.mkdir(parents=True, exist_ok=True)
    created = await w.call(
        "generate",
        c.generate(
            "a lighthouse in a storm, waves crashing",
            start_image="https://example.com/start.jpg",
            end_image=image,
            callback_url="https://example.com/hook",
            **create_options(dialect),
        ),
    )
    await w.call("extend", c.extend(done, "the storm clears and the sun comes out"))
    await w.call("get", c.get(done))
    await w.call("get unknown", c.get("no-such-task"))
    await w.call("get_many", c.get_many([done, "no-such-task", spare]))
    await w.call("no_watermark_url", c.no_watermark_url(done))
    if c.dialect.supports("audio"):
        await w.call("add_audio", c.add_audio(done, "waves and gulls", negative_prompt="music"))
    await w.call("download", c.download(done, dest))
    if dialect == "official":
        await w.call("list", c.list(limit=10))
        await w.call("upscale", c.upscale(done, "1080p"))
        await w.call("credits", c.credits())
        await w.call("delete", c.delete(spare))
    ids = [created.id] if isinstance(created, Generation) else [done]
    await w.call("poll", poll_all(c, w, ids, poll_timeout))
    requests: list[GenerateRequest | str] = [
        GenerateRequest("a red kite over green hills"),
        "a paper boat on a puddle",
    ]
    many = await w.call("generate_many", run_many(c, requests, download_to=dest / "many"))
    if isinstance(many, list):
        w.job_results("generate_many", many)


def png(tmp_path: pathlib.Path) -> pathlib.Path:
    """A one-pixel PNG on disk, to be sent as a data URI."""
    image = tmp_path / "frame.png"
    image.write_bytes(PNG)
    return image


@pytest.mark.parametrize("dialect", ALL)
async def test_every_operation_keeps_the_key_out(
    dialect: str,
    emulator: MakeEmulator,
    client: MakeClient,
    tmp_path: pathlib.Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every operation succeeds, logs its requests masked, and shows the key nowhere."""
    watch_logs(caplog)
    emu = await emulator(dialect, api_key=SECRET)
    c = await client(emu, api_key=SECRET)
    w = Witness()
    client_parts(w, c, FAST_RETRY)
    done = emu.create_task("a finished video", run_seconds=0.0, queue_seconds=0.0)
    spare = emu.create_task("one to delete", run_seconds=0.0, queue_seconds=0.0)
    videos = tmp_path / "videos"
    await every_operation(
        c,
        w,
        dialect=dialect,
        done=done,
        spare=spare,
        image=png(tmp_path),
        dest=videos,
        poll_timeout=10,
    )
    assert set(w.errors) == {"get unknown"}, w.errors
    assert isinstance(w.errors["get unknown"], NotFoundError)
    ran = {"generate", "extend", "get", "get_many", "no_watermark_url", "download", "poll"}
    ran |= {"add_audio"} if dialect in ("official", "rixapi") else set()
    ran |= {"list", "upscale", "credits", "delete"} if dialect == "official" else set()
    assert set(w.results) == ran | {"generate_many"}
    created = w.results["generate"]
    assert isinstance(created, Generation)
    assert w.results["poll"] == [created.id]
    assert (videos / f"{done}.mp4").read_bytes()[4:8] == b"ftyp"
    many = w.results["generate_many"]
    assert isinstance(many, list)
    assert all(isinstance(r, JobResult) and r.ok and r.path for r in many)
    assert emu.stats.cdn_requests >= 3
    assert emu.stats.cdn_auth_headers == 0
    # The debug log shows each request, with the key masked.
    lines = request_lines(caplog)
    get_line = f"GET {task_path(dialect, done)} -> 200"
    assert any(get_line in line and "Authorization: Bearer ***" in line for line in lines), lines
    assert any(line.startswith("POST ") for line in lines)
    w.assert_no_key(caplog, tmp_path)


@pytest.mark.parametrize("dialect", ALL)
async def test_a_refused_key_is_not_repeated(
    dialect: str,
    emulator: MakeEmulator,
    client: MakeClient,
    tmp_path: pathlib.Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A wrong key gets 401 on every route; none of the errors or log lines shows it."""
    watch_logs(caplog)
    emu = await emulator(dialect, api_key=OTHER_KEY)
    c = await client(emu, api_key=SECRET)
    w = Witness()
    client_parts(w, c, FAST_RETRY)
    done = emu.create_task("a finished video", run_seconds=0.0, queue_seconds=0.0)
    spare = emu.create_task("one to delete", run_seconds=0.0, queue_seconds=0.0)
    await every_operation(
        c,
        w,
        dialect=dialect,
        done=done,
        spare=spare,
        image=png(tmp_path),
        dest=tmp_path / "videos",
        poll_timeout=5,
    )
    assert set(w.results) == {"generate_many"}, w.results
    assert all(isinstance(e, AuthenticationError) for e in w.errors.values()), w.errors
    many = w.results["generate_many"]
    assert isinstance(many, list)
    assert all(isinstance(r, JobResult) and isinstance(r.error, AuthenticationError) for r in many)
    lines = request_lines(caplog)
    assert any(f"GET {task_path(dialect, done)} -> 401" in line for line in lines), lines
    assert all("Bearer ***" in line for line in lines if "->" in line)
    assert not any((tmp_path / "videos").rglob("*.mp4"))
    w.assert_no_key(caplog, tmp_path)


@pytest.mark.parametrize("dialect", ALL)
@pytest.mark.parametrize("kind", FAULT_KINDS)
async def test_faults_on_every_route_keep_the_key_out(
    kind: str,
    dialect: str,
    emulator: MakeEmulator,
    client: MakeClient,
    tmp_path: pathlib.Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """500s, HTML 502s, resets, cut bodies, lost submits, timeouts and 429s: no key anywhere."""
    watch_logs(caplog)
    faults = Faults(**{kind: 1.0}, slow_seconds=0.5)  # type: ignore[arg-type]
    emu = await emulator(dialect, api_key=SECRET, faults=faults)
    # One try for 429s: the pause a 429 imposes outlasts the budget, so later ones answer at once.
    retry = RetryPolicy(max_tries=1, max_time=0.5) if kind == "rate_429" else SHORT_RETRY
    c = await client(emu, api_key=SECRET, retry=retry, timeout=0.1 if kind == "slow" else 5)
    w = Witness()
    client_parts(w, c, retry)
    done = emu.create_task("a finished video", run_seconds=0.0, queue_seconds=0.0)
    spare = emu.create_task("one to delete", run_seconds=0.0, queue_seconds=0.0)
    await every_operation(
        c,
        w,
        dialect=dialect,
        done=done,
        spare=spare,
        image=png(tmp_path),
        dest=tmp_path / "videos",
        poll_timeout=0.5,
    )
    assert all(isinstance(e, LumaError) for e in w.errors.values()), w.errors
    recovered = kind == "ambiguous_submit" and dialect == "official"
    if recovered:
        # The official list shows the task the lost create made: it is recovered, not lost.
        assert "generate" not in w.errors
    elif kind == "ambiguous_submit":
        # Only submits are hit: the answer of a create that happened is lost.
        assert isinstance(w.errors["generate"], SubmissionUncertainError)
    else:
        assert "generate" in w.errors
        assert "get" in w.errors
        assert isinstance(w.errors["poll"], PollTimeoutError)
        expected = {
            "http_500": SubmissionUncertainError,
            "html_502": SubmissionUncertainError,
            "reset": SubmissionUncertainError,
            "truncated": SubmissionUncertainError,
            "slow": SubmissionUncertainError,
            "rate_429": RateLimitError,
        }[kind]
        assert isinstance(w.errors["generate"], expected), w.errors["generate"]
    many = w.results["generate_many"]
    assert isinstance(many, list)
    assert all(isinstance(r, JobResult) for r in many)
    assert recovered or all(isinstance(r.error, LumaError) for r in many)
    assert any(line.startswith(("GET ", "POST ")) for line in request_lines(caplog))
    w.assert_no_key(caplog, tmp_path)


@pytest.mark.parametrize("dialect", ALL)
async def test_a_refused_connection_keeps_the_key_out(
    dialect: str, tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing listening at the gateway or at the video's host: errors only, no key."""
    watch_logs(caplog)
    url = f"http://127.0.0.1:{closed_port()}"
    retry = RetryPolicy(max_tries=2, max_time=1, base=0.001, cap=0.01)
    w = Witness()
    async with LumaClient(url, SECRET, dialect, retry=retry) as c:
        client_parts(w, c, retry)
        await every_operation(
            c,
            w,
            dialect=dialect,
            done="task-1",
            spare="task-2",
            image=png(tmp_path),
            dest=tmp_path / "videos",
            poll_timeout=0.3,
        )
        own_host = Generation("task-3", State.COMPLETED, video=VideoAsset(url=f"{url}/v.mp4"))
        await w.call("download from the gateway's host", c.download(own_host, tmp_path))
    errors = w.errors
    assert all(isinstance(e, TransportError | PollTimeoutError) for e in errors.values()), errors
    assert "download from the gateway's host" in errors
    many = w.results["generate_many"]
    assert isinstance(many, list)
    assert all(isinstance(r, JobResult) and isinstance(r.error, TransportError) for r in many)
    assert any("failed: " in line for line in request_lines(caplog))
    w.assert_no_key(caplog, tmp_path)


@pytest.mark.parametrize("dialect", ["official", "rixapi"])
async def test_refusals_of_a_known_key_keep_it_out(
    dialect: str,
    emulator: MakeEmulator,
    client: MakeClient,
    tmp_path: pathlib.Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Quota, bad request, not found and a refused video link: the gateway's words only."""
    watch_logs(caplog)
    emu = await emulator(dialect, api_key=SECRET, credits=0)
    c = await client(emu, api_key=SECRET)
    w = Witness()
    client_parts(w, c, FAST_RETRY)
    task = emu.create_task("a finished video", run_seconds=0.0, queue_seconds=0.0)
    options: dict[str, Any] = {"aspect_ratio": "16:9"}
    await w.call("quota", c.generate("one video too many", **options))
    await w.call("bad request", c.generate("odd", extra_body={"aspect_ratio": "7:3"}))
    await w.call("not found", c.get("no-such-task"))
    await w.call("unknown parent", c.extend("no-such-task", "more of it", **options))
    finished = await c.get(task)
    assert finished.video is not None
    forged = VideoAsset(url=finished.video.url.replace("sig=", "sig=0"))
    bad_link = Generation(task, State.COMPLETED, video=forged)
    # The CDN refuses the forged link (403); the client asks the gateway for a fresh one.
    await w.call("refreshed download", c.download(bad_link, tmp_path / "x.mp4"))
    assert isinstance(w.errors["quota"], QuotaExceededError)
    assert isinstance(w.errors["bad request"], BadRequestError)
    assert isinstance(w.errors["not found"], NotFoundError)
    # Relays answer 400 task_not_exist; the official API refuses the keyframe with a 400.
    unknown_parent = BadRequestError if dialect == "official" else NotFoundError
    assert isinstance(w.errors["unknown parent"], unknown_parent)
    assert "refreshed download" not in w.errors
    assert (tmp_path / "x.mp4").read_bytes()[4:8] == b"ftyp"
    w.assert_no_key(caplog, tmp_path)


async def test_a_key_from_the_environment_stays_hidden(
    emulator: MakeEmulator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`$LUMA_API_KEY` is used and masked like an explicit key."""
    watch_logs(caplog)
    emu = await emulator("gptge", api_key=SECRET)
    monkeypatch.setenv("LUMA_API_KEY", SECRET)
    monkeypatch.setenv("LUMA_BASE_URL", emu.base_url)
    monkeypatch.setenv("LUMA_DIALECT", "gptge")
    task = emu.create_task("from the environment", run_seconds=0.0, queue_seconds=0.0)
    w = Witness()
    async with LumaClient.from_env(retry=FAST_RETRY) as c:
        client_parts(w, c, FAST_RETRY)
        await w.call("get", c.get(task))
    assert set(w.results) == {"get"}
    assert any(re.search(r"-> 200 .*Bearer \*\*\*", line) for line in request_lines(caplog))
    w.assert_no_key(caplog)


def with_locals(exc: BaseException) -> str:
    """The traceback as tools that show frame variables render it (pytest --showlocals, Sentry)."""
    rendered = traceback.TracebackException.from_exception(exc, capture_locals=True)
    return "".join(rendered.format())


async def test_tracebacks_with_locals_keep_the_key_out(tmp_path: pathlib.Path) -> None:
    """Error reporters that print each frame's variables must not find the key there either."""
    url = f"http://127.0.0.1:{closed_port()}"
    own_host = Generation("task-3", State.COMPLETED, video=VideoAsset(url=f"{url}/v.mp4"))
    w = Witness()
    async with LumaClient(url, SECRET, "gptge", retry=RetryPolicy(max_tries=1)) as c:
        await w.call("get", c.get("task-1"))
        await w.call("generate", c.generate("a quiet street at dawn"))
        await w.call("download", c.download(own_host, tmp_path))
    assert set(w.errors) == {"get", "generate", "download"}
    found = [label for label, exc in w.errors.items() if leaks(with_locals(exc))]
    assert found == [], f"the API key is in the frame variables of: {found}"


# -- masking: whole tokens for short keys, everywhere for long ones -------------------------

MASKED = [
    ("k", "unknown key k", "unknown key ***"),
    ("k", "k", "***"),
    ("k", "token: k.", "token: ***."),
    ("k", "kk k-k", "kk k-k"),
    ("ab", "tab about ab ab", "tab about *** ***"),
    (SECRET, f"Bearer {SECRET}", "Bearer ***"),
    (SECRET, f"TokenStatusExhausted[{SECRET}]", "TokenStatusExhausted[***]"),
    (SECRET, f"key={SECRET}&x=1", "key=***&x=1"),
    (SECRET, f'"{SECRET}"', '"***"'),
    # A long key glued to other text is still the key (URL-encoded, Go's \u003c escapes):
    # no ordinary word contains it, so it is masked there too.
    (SECRET, f"x{SECRET} {SECRET}x", "x*** ***x"),
    (SECRET, f"auth=Bearer%20{SECRET}", "auth=Bearer%20***"),
    (SECRET, f"\\u003c{SECRET}\\u003e", "\\u003c***\\u003e"),
    ("a.b+c", "a.b+c aXb+c", "*** aXb+c"),
    ("密钥", "用户 密钥 无效", "用户 *** 无效"),
]


@pytest.mark.parametrize(("key", "text", "expected"), MASKED)
def test_masking_replaces_whole_tokens_only(key: str, text: str, expected: str) -> None:
    """A short key is masked where it stands alone, so words keep their letters; a long one
    wherever it appears."""
    assert mask(text, key) == expected
    assert mask_bytes(text.encode(), key) == expected.encode()


@pytest.mark.parametrize(
    ("key", "said", "expected"),
    [
        ("k", "token k is unknown", "token *** is unknown"),
        (SECRET, f"无效的令牌 {SECRET} (unknown)", "无效的令牌 *** (unknown)"),
    ],
)
async def test_an_echoed_key_is_masked_and_the_words_are_kept(
    key: str, said: str, expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A gateway that echoes the key: the error has it masked, and "unknown" stays "unknown"."""
    watch_logs(caplog)

    async def handle(request: web.Request) -> web.Response:
        return web.json_response({"error": {"message": said}}, status=401)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        async with LumaClient(url, key, "rixapi", retry=FAST_RETRY) as c:
            with pytest.raises(AuthenticationError) as info:
                await c.get("task-1")
    finally:
        await runner.cleanup()
    assert info.value.message == expected
    assert str(info.value) == f"HTTP 401: {expected}"

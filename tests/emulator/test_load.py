"""Knobs for benchmarks against gateway-like behaviour: rate limit, lifetimes, load figures."""

from __future__ import annotations

import pytest

from luma_async.emulator import REALISTIC_RUN_SECONDS, EmulatorConfig
from luma_async.emulator.__main__ import config_from, parse_args

from ._support import FakeClock, get_path, prompt_body, serve, submit_path

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("dialect", ["official", "gptge"])
async def test_sliding_window_per_key(dialect: str, clock: FakeClock) -> None:
    """3 requests in any one-second window per key; the 4th is a 429 in the dialect's shape."""
    path = "/ping" if dialect == "official" else "/luma/generations/nope"
    async with serve(dialect=dialect, api_key=None, rate_limit=3.0, clock=clock) as api:

        async def hit(key: str = "k1") -> int:
            return (await api.get(path, token=key)).status

        first = [await hit()]
        clock.advance(0.4)
        first += [await hit(), await hit()]
        assert 429 not in first
        reply = await api.get(path, token="k1")
        assert reply.status == 429
        assert reply.headers["Retry-After"] == "1"
        assert ("detail" in reply.body) if dialect == "official" else ("error" in reply.body)
        assert await hit("k2") != 429, "another key has its own window"
        clock.advance(0.6)  # the first request leaves the window; the two at 0.4 stay
        assert await hit() != 429
        assert await hit() == 429
        clock.advance(0.4)  # both requests made at 0.4 leave: room for two
        assert 429 not in [await hit(), await hit()]
        assert await hit() == 429
        assert api.emu.stats.rate_limited == 3


async def test_slow_rate_widens_the_window(clock: FakeClock) -> None:
    """rate_limit=0.5 with a 1 s window: one request in any two seconds, Retry-After 2."""
    async with serve(dialect="official", rate_limit=0.5, clock=clock) as api:
        assert (await api.get("/ping")).status == 200
        reply = await api.get("/ping")
        assert (reply.status, reply.headers["Retry-After"]) == (429, "2")
        clock.advance(2.0)
        assert (await api.get("/ping")).status == 200


async def test_rate_limit_window_counts_over_several_seconds(clock: FakeClock) -> None:
    """rate_limit=2 over a 5 s window: 10 requests pass in a burst, then 429 until one leaves."""
    async with serve(dialect="official", rate_limit=2, rate_limit_window=5, clock=clock) as api:
        statuses = [(await api.get("/ping")).status for _ in range(11)]
        assert statuses == [200] * 10 + [429]
        clock.advance(5)
        assert (await api.get("/ping")).status == 200


def test_rate_limit_window_must_be_positive() -> None:
    """A window of zero cannot work."""
    with pytest.raises(ValueError, match="rate_limit_window"):
        EmulatorConfig(rate_limit=1.0, rate_limit_window=0)


async def test_lifetimes_per_kind_are_drawn_and_scaled(clock: FakeClock) -> None:
    """run_seconds_by_kind with time_scale: videos live 3-9 s (60-180 s / 20), images 0.25-1 s."""
    config = {
        "dialect": "official",
        "clock": clock,
        "queue_seconds": (0.0, 0.0),
        "time_scale": 1 / 20,
        "run_seconds_by_kind": REALISTIC_RUN_SECONDS,
    }
    async with serve(**config) as api:
        videos = [
            (await api.post("/generations/video", {"model": "ray-2", "prompt": f"video {n}"})).body[
                "id"
            ]
            for n in range(20)
        ]
        images = [
            (
                await api.post("/generations/image", {"model": "photon-1", "prompt": f"image {n}"})
            ).body["id"]
            for n in range(20)
        ]
        start = clock.now
        clock.advance(10)
        video_life = [api.emu.finished_at(v) for v in videos]
        image_life = [api.emu.finished_at(i) for i in images]
        assert all(t is not None and 3.0 <= t - start <= 9.0 for t in video_life), video_life
        assert all(t is not None and 0.25 <= t - start <= 1.0 for t in image_life), image_life
        spread = [t for t in video_life if t is not None]
        assert max(spread) - min(spread) > 2.0, "drawn from the range, not one fixed value"


def test_run_seconds_by_kind_is_checked() -> None:
    """A range with low > high is refused, naming the kind."""
    with pytest.raises(ValueError, match="video"):
        EmulatorConfig(run_seconds_by_kind={"video": (5.0, 1.0)})


def test_command_line_lifetimes() -> None:
    """--realistic and --run-seconds KIND=LOW-HIGH reach the config."""
    config = config_from(parse_args(["--realistic", "--run-seconds", "image=1-2"]))
    assert config.run_range("video") == (60.0, 180.0)
    assert config.run_range("image") == (1.0, 2.0)
    assert config_from(parse_args([])).run_range("video") == config_from(parse_args([])).run_seconds
    with pytest.raises(ValueError, match="KIND=LOW-HIGH"):
        config_from(parse_args(["--run-seconds", "video=fast"]))


@pytest.mark.parametrize("eta", [False, True])
async def test_eta_can_be_left_out(eta: bool, clock: FakeClock) -> None:
    """eta=False: no estimate_wait_seconds value (null, as real relays send); True: a countdown."""
    async with serve(dialect="anyapi", eta=eta, clock=clock, time_scale=1.0) as api:
        task = (await api.post(submit_path("anyapi"), prompt_body("anyapi"))).body
        got = (await api.get(get_path("anyapi", task["id"]))).body["estimate_wait_seconds"]
        assert (got is None) is (not eta)


async def test_max_in_flight(clock: FakeClock) -> None:
    """The peak counts tasks created and not yet terminal at the same time."""
    fixed = {"queue_seconds": (1.0, 1.0), "run_seconds": (2.0, 2.0)}
    async with serve(dialect="official", clock=clock, **fixed) as api:
        for n in range(3):
            await api.post("/generations/video", {"model": "ray-2", "prompt": f"first {n}"})
        assert api.emu.stats.max_in_flight == 3
        clock.advance(3.0)  # all three are terminal now
        for n in range(2):
            await api.post("/generations/video", {"model": "ray-2", "prompt": f"second {n}"})
        assert api.emu.stats.max_in_flight == 3
        clock.advance(1.0)
        for n in range(3):
            await api.post("/generations/video", {"model": "ray-2", "prompt": f"third {n}"})
        assert api.emu.stats.max_in_flight == 5


async def test_creates_by_body_shows_duplicates() -> None:
    """Each distinct request counts its creations; a repeat (other callback URL) counts twice."""
    async with serve(dialect="official") as api:
        body = {"model": "ray-2", "prompt": "the same lake"}
        await api.post("/generations/video", {**body, "callback_url": "https://a.example/1"})
        await api.post("/generations/video", {**body, "callback_url": "https://a.example/2"})
        await api.post("/generations/video", {"model": "ray-2", "prompt": "another lake"})
        await api.post("/generations/image", {"model": "photon-1", "prompt": "the same lake"})
        counts = sorted(api.emu.stats.creates_by_body.values())
        assert counts == [1, 1, 2]
        assert api.emu.stats.duplicate_prompts == 1
        api.emu.reset_stats()
        assert api.emu.stats.creates_by_body == {}

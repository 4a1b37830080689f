"""The Emulator object: lifecycle, the task clock, create_task, task_state, finished_at, config."""

from __future__ import annotations

import dataclasses

import pytest

from luma_async.emulator import QUIRKS, ROUTES, Emulator, EmulatorConfig

from ._support import FakeClock, fast, prompt_body, serve

pytestmark = pytest.mark.anyio


async def test_urls_exist_only_while_running() -> None:
    """base_url and cdn_url raise before start and after close; close twice is fine."""
    emu = Emulator(EmulatorConfig(dialect="anyapi", prefix="/vip"))
    with pytest.raises(RuntimeError):
        _ = emu.base_url
    await emu.start()
    try:
        assert emu.base_url.startswith("http://127.0.0.1:")
        assert emu.base_url.endswith("/vip")
        assert emu.cdn_url.startswith("http://127.0.0.1:")
        assert emu.cdn_url != emu.base_url.removesuffix("/vip")
        with pytest.raises(RuntimeError):
            await emu.start()
    finally:
        await emu.close()
    await emu.close()
    with pytest.raises(RuntimeError):
        _ = emu.cdn_url


async def test_config_is_kept() -> None:
    """emu.config is the config given."""
    config = EmulatorConfig(dialect="xfusion", seed=3)
    assert Emulator(config).config is config
    assert Emulator().config.dialect == "official"


async def test_create_task_durations_are_not_scaled(clock: FakeClock) -> None:
    """create_task's durations are used as given, whatever time_scale says."""
    async with serve(dialect="anyapi", clock=clock, time_scale=0.01) as api:
        emu = api.emu
        task_id = emu.create_task("p", queue_seconds=1.0, run_seconds=2.0, outcome="completed")
        assert emu.task_state(task_id) == "pending"
        clock.advance(1.0)
        assert emu.task_state(task_id) == "processing"
        assert emu.finished_at(task_id) is None
        clock.advance(2.0)
        assert emu.task_state(task_id) == "completed"
        assert emu.finished_at(task_id) == pytest.approx(1003.0)
        stats = emu.stats
        assert (stats.requests, stats.creations) == (0, 0)
        assert emu.tasks_created() == []


async def test_http_durations_follow_time_scale(clock: FakeClock) -> None:
    """Tasks made over HTTP take (queue + run) x time_scale."""
    async with serve(**fast(dialect="official", clock=clock, time_scale=0.5)) as api:
        task_id = (await api.post("/generations/video", prompt_body("official"))).body["id"]
        assert api.emu.task_state(task_id) == "queued"
        clock.advance(0.5)
        assert api.emu.task_state(task_id) == "dreaming"
        clock.advance(1.0)
        assert api.emu.task_state(task_id) == "completed"
        assert api.emu.finished_at(task_id) == pytest.approx(1001.5)


async def test_durations_are_drawn_from_the_ranges(clock: FakeClock) -> None:
    """Drawn durations fall inside the configured ranges."""
    config = {
        "dialect": "anyapi",
        "clock": clock,
        "queue_seconds": (1.0, 2.0),
        "run_seconds": (3.0, 4.0),
    }
    async with serve(**config) as api:
        ids = [api.emu.create_task(f"p{i}") for i in range(20)]
        clock.advance(0.99)
        assert {api.emu.task_state(i) for i in ids} == {"pending"}
        clock.advance(2.02)
        assert {api.emu.task_state(i) for i in ids} == {"processing"}
        clock.advance(3.0)
        assert {api.emu.task_state(i) for i in ids} == {"completed"}


async def test_outcomes(clock: FakeClock) -> None:
    """outcome="failed" fails; the fail marker always fails; fail_rate is seeded."""
    async with serve(dialect="anyapi", clock=clock, fail_rate=0.5, seed=1) as api:
        emu = api.emu
        forced = emu.create_task("fine", queue_seconds=0, run_seconds=1, outcome="failed")
        marked = emu.create_task("x [fail]", queue_seconds=0, run_seconds=1, outcome="completed")
        marker_alone = emu.create_task("x [fail]", queue_seconds=0, run_seconds=1)
        drawn = [emu.create_task(f"p{i}", queue_seconds=0, run_seconds=1) for i in range(40)]
        clock.advance(1)
        assert emu.task_state(forced) == "failed"
        assert emu.task_state(marked) == "completed", "an explicit outcome wins"
        assert emu.task_state(marker_alone) == "failed"
        states = [emu.task_state(i) for i in drawn]
        assert 5 < states.count("failed") < 35
        assert emu.finished_at(forced) == pytest.approx(1001.0)
        with pytest.raises(ValueError, match="outcome"):
            emu.create_task("x", outcome="maybe")
    async with serve(dialect="anyapi", clock=FakeClock(), fail_rate=0.5, seed=1) as again:
        again.emu.create_task("fine", queue_seconds=0, run_seconds=0, outcome="failed")
        again.emu.create_task("x [fail]", queue_seconds=0, run_seconds=0, outcome="completed")
        again.emu.create_task("x [fail]", queue_seconds=0, run_seconds=0)
        repeat = [again.emu.create_task(f"p{i}", queue_seconds=0, run_seconds=0) for i in range(40)]
        assert [again.emu.task_state(i) for i in repeat] == states
        assert repeat == drawn, "ids are seeded too"


async def test_fail_rate_extremes(clock: FakeClock) -> None:
    """fail_rate 1 fails everything, 0 nothing."""
    for rate, word in ((1.0, "failed"), (0.0, "completed")):
        async with serve(dialect="gptge", clock=clock, fail_rate=rate) as api:
            ids = [api.emu.create_task("p", queue_seconds=0, run_seconds=0) for _ in range(10)]
            assert {api.emu.task_state(i) for i in ids} == {word}


async def test_unknown_task_ids_raise_key_error() -> None:
    """task_state and finished_at raise KeyError for an unknown id."""
    async with serve(dialect="anyapi") as api:
        with pytest.raises(KeyError):
            api.emu.task_state("nope")
        with pytest.raises(KeyError):
            api.emu.finished_at("nope")


async def test_ids_differ_between_dialects() -> None:
    """Two emulators with one seed but different dialects never share ids."""
    async with serve(dialect="anyapi") as a, serve(dialect="rixapi") as b:
        assert a.emu.create_task("p") != b.emu.create_task("p")


@pytest.mark.parametrize(
    "changes",
    [
        {"dialect": "midjourney"},
        {"quirks": frozenset({"nope"})},
        {"dialect": "official", "quirks": frozenset({"envelope"})},
        {"queue_seconds": (2.0, 1.0)},
        {"run_seconds": (-1.0, 1.0)},
        {"time_scale": -1.0},
        {"fail_rate": 1.5},
        {"credits": -1},
        {"rate_limit": 0.0},
        {"api_key": ""},
        {"link_delay": -1.0},
    ],
)
def test_bad_config_is_refused(changes: dict[str, object]) -> None:
    """Settings that cannot work raise ValueError at construction."""
    with pytest.raises(ValueError):  # noqa: PT011  (the message varies per setting)
        EmulatorConfig(**changes)  # type: ignore[arg-type]


def test_config_normalises() -> None:
    """Prefix gets one leading slash and none trailing; quirks become a frozenset."""
    config = EmulatorConfig(dialect="anyapi", prefix="pro/", quirks={"envelope"})  # type: ignore[arg-type]
    assert config.prefix == "/pro"
    assert config.quirks == frozenset({"envelope"})
    assert dataclasses.replace(config, prefix="").prefix == ""
    assert config.has("envelope")
    assert not config.has("new_form")


def test_public_names() -> None:
    """Quirk and route names are the documented ones."""
    assert frozenset(QUIRKS) == {
        "early_404",
        "completed_without_link",
        "list_submit",
        "envelope",
        "batch_wrapper",
        "unknown_state",
        "no_batch_route",
        "no_watermark_missing",
        "task_not_exist_400",
        "status_201",
        "new_form",
        "no_download_url",
        "expire_links",
    }
    assert set(ROUTES) == {
        "submit",
        "extend",
        "get",
        "batch",
        "no_watermark",
        "audio",
        "list",
        "delete",
        "upscale",
        "credits",
        "ping",
        "concepts",
        "file_upload",
        "image",
        "reframe_image",
        "reframe_video",
        "modify_video",
    }

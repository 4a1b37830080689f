"""Luma's own SDK (lumaai) against the official dialect: every answer must parse into its models.

The emulator is written from the OpenAPI; the SDK is generated from it too. If the SDK can use the
emulator end to end, and each raw answer validates strictly against the SDK's pydantic models,
the official dialect's shapes are right.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import lumaai
import pytest
from lumaai.types import CreditGetResponse, Generation, GenerationListResponse, PingCheckResponse

from luma_async.emulator import Emulator, EmulatorConfig

from ._support import KEY, FakeClock

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def sdk(
    clock: FakeClock, **config: Any
) -> AsyncIterator[tuple[Emulator, lumaai.AsyncLumaAI]]:
    """An official-dialect emulator and an SDK client aimed at it (no SDK retries)."""
    cfg = EmulatorConfig(
        dialect="official", clock=clock, queue_seconds=(1.0, 1.0), run_seconds=(2.0, 2.0), **config
    )
    async with Emulator(cfg) as emu:
        client = lumaai.AsyncLumaAI(auth_token=KEY, base_url=emu.base_url, max_retries=0)
        async with client:
            yield emu, client


def _validates(model: Any, raw: Any) -> None:
    """The raw JSON validates against the SDK's pydantic model (not just the lenient construct)."""
    model.model_validate(raw)


async def test_create_get_list_delete(clock: FakeClock) -> None:
    """generations.create (ray-2), get, list and delete round-trip through the SDK's models."""
    async with sdk(clock) as (emu, client):
        raw = await client.generations.with_raw_response.create(
            model="ray-2",
            prompt="A serene lake at sunset",
            aspect_ratio="16:9",
            loop=True,
            resolution="720p",
            duration="5s",
            keyframes={"frame0": {"type": "image", "url": "https://example.com/image.jpg"}},
        )
        assert raw.http_response.status_code == 201
        _validates(Generation, raw.http_response.json())
        created = await raw.parse()
        assert isinstance(created, Generation)
        assert created.state == "queued"
        assert isinstance(created.created_at, datetime)
        assert created.created_at.tzinfo is not None
        assert created.id is not None

        clock.advance(5)
        fetched = await client.generations.get(created.id)
        assert fetched.state == "completed"
        assert fetched.assets is not None
        assert fetched.assets.video is not None
        assert fetched.assets.video.startswith(emu.cdn_url)
        assert fetched.model == "ray-2"

        extended = await client.generations.create(
            model="ray-2",
            prompt="and then it rains",
            keyframes={"frame0": {"type": "generation", "id": created.id}},
        )
        assert extended.id is not None
        assert extended.id != created.id

        raw_list = await client.generations.with_raw_response.list(limit=1, offset=0)
        _validates(GenerationListResponse, raw_list.http_response.json())
        page = await raw_list.parse()
        assert [g.id for g in page.generations] == [extended.id]
        assert (page.has_more, page.count, page.limit, page.offset) == (True, 1, 1, 0)

        await client.generations.delete(extended.id)
        with pytest.raises(lumaai.NotFoundError):
            await client.generations.get(extended.id)


async def test_video_resource_create(clock: FakeClock) -> None:
    """generations.video.create posts to /generations/video as well."""
    async with sdk(clock) as (emu, client):
        gen = await client.generations.video.create(model="ray-flash-2", prompt="a fox in snow")
        assert gen.model == "ray-flash-2"
        assert emu.stats.by_route["submit"] == 1


async def test_audio_and_upscale(clock: FakeClock) -> None:
    """generations.audio and generations.upscale answer Generations the SDK parses."""
    async with sdk(clock) as (emu, client):
        base = await client.generations.create(model="ray-2", prompt="waves on rocks")
        assert base.id is not None
        clock.advance(5)
        raw_audio = await client.generations.with_raw_response.audio(
            base.id, generation_type="add_audio", prompt="crashing waves", negative_prompt="music"
        )
        _validates(Generation, raw_audio.http_response.json())
        audio = await raw_audio.parse()
        assert audio.id != base.id
        raw_up = await client.generations.with_raw_response.upscale(
            base.id, generation_type="upscale_video", resolution="1080p"
        )
        _validates(Generation, raw_up.http_response.json())
        upscaled = await raw_up.parse()
        assert upscaled.state == "queued"
        assert emu.tasks_created() == [base.id, audio.id, upscaled.id]


async def test_credits_ping_concepts(clock: FakeClock) -> None:
    """credits.get, ping.check and generations.concepts.list parse."""
    async with sdk(clock, credits=10) as (_, client):
        raw = await client.credits.with_raw_response.get()
        _validates(CreditGetResponse, raw.http_response.json())
        assert (await raw.parse()).credit_balance == 10.0
        pong = await client.ping.check()
        assert isinstance(pong, PingCheckResponse)
        assert pong.message == "pong"
        concepts = await client.generations.concepts.list()
        assert all(isinstance(c, str) for c in concepts)


async def test_errors_map_to_sdk_exceptions(clock: FakeClock) -> None:
    """401, 400 and 402 reach the SDK as its own exception classes."""
    async with sdk(clock, credits=0) as (emu, client):
        with pytest.raises(lumaai.BadRequestError):
            await client.generations.create(model="ray-2", prompt="ab")
        with pytest.raises(lumaai.APIStatusError) as quota:
            await client.generations.create(model="ray-2", prompt="a lake")
        assert quota.value.status_code == 402
        bad_key = lumaai.AsyncLumaAI(auth_token="wrong", base_url=emu.base_url, max_retries=0)
        async with bad_key:
            with pytest.raises(lumaai.AuthenticationError):
                await bad_key.ping.check()


async def test_image_reframe_modify_round_trip(clock: FakeClock) -> None:
    """Every new create route answers a Generation the SDK validates, queued and completed."""
    image_url = "https://example.com/image.jpg"
    video_url = "https://example.com/video.mp4"
    async with sdk(clock) as (emu, client):
        raws = [
            await client.generations.image.with_raw_response.create(
                model="photon-1",
                prompt="a lighthouse in fog",
                aspect_ratio="1:1",
                format="png",
                image_ref=[{"url": image_url, "weight": 0.5}],
                style_ref=[{"url": image_url}],
                character_ref={"identity0": {"images": [image_url]}},
                modify_image_ref={"url": image_url, "weight": 1.0},
            ),
            await client.generations.image.with_raw_response.reframe(
                generation_type="reframe_image",
                media={"url": image_url},
                model="photon-flash-1",
                aspect_ratio="9:16",
                grid_position_x=5,
                x_start=0,
                x_end=100,
            ),
            await client.generations.video.with_raw_response.reframe(
                generation_type="reframe_video",
                media={"url": video_url},
                model="ray-2",
                aspect_ratio="9:16",
                first_frame={"url": image_url},
                resized_width=640,
            ),
            await client.generations.video.with_raw_response.modify(
                generation_type="modify_video",
                media={"url": video_url},
                model="ray-2",
                mode="reimagine_3",
                prompt="as a watercolour",
            ),
        ]
        ids = []
        for raw in raws:
            assert raw.http_response.status_code == 201
            _validates(Generation, raw.http_response.json())
            gen = await raw.parse()
            assert gen.state == "queued"
            assert gen.id is not None
            ids.append(gen.id)
        clock.advance(10)
        kinds = []
        for gen_id in ids:
            raw_get = await client.generations.with_raw_response.get(gen_id)
            _validates(Generation, raw_get.http_response.json())
            done = await raw_get.parse()
            assert done.state == "completed"
            assert done.assets is not None
            kinds.append(done.generation_type)
        assert kinds == ["image", "image", "video", "video"]
        raw_list = await client.generations.with_raw_response.list()
        _validates(GenerationListResponse, raw_list.http_response.json())
        assert {g.id for g in (await raw_list.parse()).generations} == set(ids)
        assert emu.stats.creations == 4


async def test_new_route_errors_parse(clock: FakeClock) -> None:
    """A refused image request is a BadRequestError whose body is the spec's Error."""
    async with sdk(clock) as (_, client):
        with pytest.raises(lumaai.BadRequestError) as bad:
            await client.generations.video.modify(
                generation_type="modify_video",
                media={"url": "https://example.com/v.mp4"},
                model="ray-2",
                mode="flex_9",  # type: ignore[arg-type]
            )
        assert isinstance(bad.value.body, dict)
        assert set(bad.value.body) == {"detail"}

"""The official API's other operations, sans-IO: Photon images, modify, reframe, concepts, ping.

Bodies are compared with the spec (reference/luma-official-openapi.yaml); answers are recorded
JSON in tests/fixtures/ written from the spec's examples.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from luma_async._errors import AuthenticationError, InvalidRequestError, UnsupportedFeatureError
from luma_async._http import HttpRequest
from luma_async._models import (
    AnyRequest,
    GenerateRequest,
    Generation,
    ImageAsset,
    ImageRequest,
    ModifyVideoRequest,
    ReframeImageRequest,
    ReframePosition,
    ReframeVideoRequest,
    State,
    VideoAsset,
)
from luma_async.dialects import DIALECTS, KIND_OPERATIONS, MAX_IMAGE_BYTES, Official

from .conftest import fixture_json, response

OFFICIAL = Official()
RELAYS = [name for name in DIALECTS if name != "official"]
VIDEO = "https://example.com/video.mp4"
IMAGE = "https://example.com/image.jpg"
PNG_URI = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()
MP4_URI = "data:video/mp4;base64," + base64.b64encode(b"\0\0\0\x18ftypisom" + b"\0" * 12).decode()
DONE_VIDEO = Generation("v1", State.COMPLETED, video=VideoAsset(url=VIDEO))
DONE_IMAGE = Generation("i1", State.COMPLETED, kind="image", image=ImageAsset(IMAGE))


def body_of(request: HttpRequest) -> Any:
    """The JSON body of a built request."""
    assert request.body is not None
    return json.loads(request.body)


# -- images -----------------------------------------------------------------------------


def test_an_image_with_nothing_but_a_prompt_gets_the_default_model() -> None:
    """`POST /generations/image` with photon-1 filled in, nothing else sent."""
    built = OFFICIAL.image(ImageRequest("a lighthouse at night"))
    assert (built.method, built.path) == ("POST", "/generations/image")
    assert body_of(built) == {
        "generation_type": "image",
        "model": "photon-1",
        "prompt": "a lighthouse at night",
    }


def test_an_image_with_every_option_follows_the_spec() -> None:
    """References as `{url, weight}` (a plain image without weight), identity0, modify ref."""
    request = ImageRequest(
        "a lighthouse at night",
        model="photon-flash-1",
        aspect_ratio="21:9",
        format="png",
        image_ref=[IMAGE, (PNG_URI, 0.85)],
        style_ref=[("https://example.com/style.jpg", 1)],
        character_ref=[IMAGE, PNG_URI],
        modify_image_ref=(IMAGE, 0.5),
        callback_url="https://hooks.example.com/luma",
        extra_body={"seed": 7},
    )
    assert body_of(OFFICIAL.create(request)) == {
        "generation_type": "image",
        "model": "photon-flash-1",
        "prompt": "a lighthouse at night",
        "aspect_ratio": "21:9",
        "format": "png",
        "image_ref": [{"url": IMAGE}, {"url": PNG_URI, "weight": 0.85}],
        "style_ref": [{"url": "https://example.com/style.jpg", "weight": 1}],
        "character_ref": {"identity0": {"images": [IMAGE, PNG_URI]}},
        "modify_image_ref": {"url": IMAGE, "weight": 0.5},
        "callback_url": "https://hooks.example.com/luma",
        "seed": 7,
    }


def test_a_plain_modify_image_ref_is_sent_without_weight() -> None:
    """One image, no pair: `{url}` only."""
    body = body_of(OFFICIAL.image(ImageRequest("same but blue", modify_image_ref=IMAGE)))
    assert body["modify_image_ref"] == {"url": IMAGE}


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("model", "photon-2", "photon-1, photon-flash-1"),
        ("aspect_ratio", "2:1", "1:1, 16:9, 9:16, 4:3, 3:4, 21:9, 9:21"),
        ("format", "gif", "jpg, png"),
    ],
)
def test_image_values_outside_the_spec_are_refused_naming_the_field(
    field: str, value: str, accepted: str
) -> None:
    """Each enum: InvalidRequestError naming the field, the value and the accepted ones."""
    fields: dict[str, Any] = {"prompt": "a lighthouse at night", field: value}
    with pytest.raises(InvalidRequestError, match=field) as caught:
        OFFICIAL.image(ImageRequest(**fields))
    assert repr(value) in str(caught.value)
    assert accepted in str(caught.value)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x" * 5001}, "prompt"),
        ({"image_ref": []}, "image_ref"),
        ({"image_ref": [("a.jpg", 0.5)]}, "image_ref"),
        ({"style_ref": [(IMAGE, "heavy")]}, "weight"),
        ({"style_ref": [(IMAGE, True)]}, "weight"),
        ({"style_ref": [(IMAGE, float("nan"))]}, "weight"),
        ({"image_ref": [(IMAGE, 0.5, 1)]}, "pair"),
        ({"character_ref": []}, "character_ref"),
        ({"character_ref": ["ftp://example.com/x.jpg"]}, "character_ref"),
        ({"modify_image_ref": "not a url"}, "modify_image_ref"),
    ],
)
def test_bad_image_references_are_refused_before_sending(
    changes: dict[str, Any], words: str
) -> None:
    """Empty lists, bad weights, files not read, non-URLs: InvalidRequestError."""
    fields: dict[str, Any] = {"prompt": "a lighthouse at night", **changes}
    with pytest.raises(InvalidRequestError, match=words):
        OFFICIAL.image(ImageRequest(**fields))


def test_an_image_above_the_size_limit_is_refused() -> None:
    """A data URI over 10 MB is refused with its size, before anything is built."""
    payload = base64.b64encode(b"\x89PNG" + b"\0" * MAX_IMAGE_BYTES).decode()
    big = f"data:image/png;base64,{payload}"
    with pytest.raises(InvalidRequestError, match="bytes"):
        OFFICIAL.image(ImageRequest("too big", image_ref=[big]))


# -- modify -----------------------------------------------------------------------------


def test_modify_video_body_follows_the_spec() -> None:
    """`media {url}`, ray-2 filled in, the mode, the optional prompt and first frame."""
    request = ModifyVideoRequest(
        VIDEO, "reimagine_3", prompt="as a watercolour", first_frame=IMAGE, callback_url=VIDEO
    )
    built = OFFICIAL.modify_video(request)
    assert (built.method, built.path) == ("POST", "/generations/video/modify")
    assert body_of(built) == {
        "generation_type": "modify_video",
        "media": {"url": VIDEO},
        "model": "ray-2",
        "mode": "reimagine_3",
        "prompt": "as a watercolour",
        "first_frame": {"url": IMAGE},
        "callback_url": VIDEO,
    }


@pytest.mark.parametrize(
    "mode",
    [f"{m}_{n}" for m in ("adhere", "flex", "reimagine") for n in (1, 2, 3)],
)
def test_every_modify_mode_of_the_spec_is_accepted(mode: Any) -> None:
    """All nine modes go out as given."""
    assert body_of(OFFICIAL.modify_video(ModifyVideoRequest(VIDEO, mode)))["mode"] == mode


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"mode": "flex_4"}, "mode 'flex_4'.*adhere_1, adhere_2"),
        ({"mode": None}, "mode is required"),
        ({"model": "ray-flash-2"}, "model 'ray-flash-2'.*accepted: ray-2"),
        ({"video": None}, "video is required"),
        ({"video": "a-task-id"}, "video 'a-task-id' is neither"),
        ({"video": PNG_URI}, "data:video"),
        ({"first_frame": MP4_URI}, "first_frame"),
        ({"prompt": "x" * 5001}, "prompt"),
        ({"callback_url": "ftp://hooks.example.com"}, "callback_url"),
    ],
)
def test_bad_modify_requests_are_refused(changes: dict[str, Any], words: str) -> None:
    """Enums, required fields, sources of the wrong kind: InvalidRequestError."""
    fields: dict[str, Any] = {"video": VIDEO, "mode": "flex_1", **changes}
    with pytest.raises(InvalidRequestError, match=words):
        OFFICIAL.modify_video(ModifyVideoRequest(**fields))


def test_a_completed_video_generation_is_its_link() -> None:
    """A `Generation` as the source: its best video link is sent; a data URI as is."""
    assert body_of(OFFICIAL.modify_video(ModifyVideoRequest(DONE_VIDEO, "flex_1")))["media"] == {
        "url": VIDEO
    }
    assert body_of(OFFICIAL.modify_video(ModifyVideoRequest(MP4_URI, "flex_1")))["media"] == {
        "url": MP4_URI
    }


@pytest.mark.parametrize(
    ("source", "words"),
    [
        (DONE_IMAGE, "is an image generation"),
        (Generation("q", State.QUEUED), "not a completed video"),
        (Generation("f", State.FAILED, raw_state="failed"), "state failed"),
        (Generation("c", State.COMPLETED), "not a completed video"),
    ],
)
def test_modify_refuses_what_is_not_a_completed_video(source: Generation, words: str) -> None:
    """An image generation, or one not finished with a link, is refused; nothing is built."""
    with pytest.raises(InvalidRequestError, match=words):
        OFFICIAL.modify_video(ModifyVideoRequest(source, "flex_1"))


# -- reframe ----------------------------------------------------------------------------


def test_reframe_video_body_flattens_the_position() -> None:
    """Position fields go out under the spec's names; `None` ones are not sent."""
    position = ReframePosition(grid_position_x=10, grid_position_y=0, resized_width=640)
    request = ReframeVideoRequest(
        DONE_VIDEO, "9:16", model="ray-flash-2", prompt="keep the dog", position=position
    )
    built = OFFICIAL.reframe_video(request)
    assert (built.method, built.path) == ("POST", "/generations/video/reframe")
    assert body_of(built) == {
        "generation_type": "reframe_video",
        "media": {"url": VIDEO},
        "model": "ray-flash-2",
        "aspect_ratio": "9:16",
        "prompt": "keep the dog",
        "grid_position_x": 10,
        "grid_position_y": 0,
        "resized_width": 640,
    }


def test_reframe_image_body_follows_the_spec() -> None:
    """`media {url}` from a completed image generation, photon-1 filled in, the format."""
    request = ReframeImageRequest(DONE_IMAGE, "1:1", format="png")
    built = OFFICIAL.create(request)
    assert (built.method, built.path) == ("POST", "/generations/image/reframe")
    assert body_of(built) == {
        "generation_type": "reframe_image",
        "media": {"url": IMAGE},
        "model": "photon-1",
        "aspect_ratio": "1:1",
        "format": "png",
    }


@pytest.mark.parametrize(
    ("request_", "words"),
    [
        (ReframeVideoRequest(VIDEO, None), "aspect_ratio is required"),  # type: ignore[arg-type]
        (ReframeVideoRequest(VIDEO, "5:4"), "aspect_ratio '5:4'"),  # type: ignore[arg-type]
        (ReframeVideoRequest(VIDEO, "9:16", model="ray-1-6"), "ray-2, ray-flash-2"),  # type: ignore[arg-type]
        (ReframeVideoRequest(DONE_IMAGE, "9:16"), "is an image generation"),
        (ReframeImageRequest(DONE_VIDEO, "9:16"), "is an video generation"),
        (ReframeImageRequest(IMAGE, "9:16", model="ray-2"), "photon-1"),  # type: ignore[arg-type]
        (ReframeImageRequest(IMAGE, "9:16", format="webp"), "jpg, png"),  # type: ignore[arg-type]
        (
            ReframeImageRequest(IMAGE, "9:16", position=ReframePosition(x_start=-1)),
            "x_start -1 is negative",
        ),
        (
            ReframeVideoRequest(VIDEO, "9:16", position=ReframePosition(y_end=True)),
            "y_end True is not a whole number",
        ),
        (
            ReframeVideoRequest(VIDEO, "9:16", position=ReframePosition(x_end=2.5)),  # type: ignore[arg-type]
            "x_end 2.5",
        ),
    ],
)
def test_bad_reframes_are_refused(request_: AnyRequest, words: str) -> None:
    """Required ratio, enums, wrong source kind, bad position: InvalidRequestError."""
    with pytest.raises(InvalidRequestError, match=words):
        OFFICIAL.create(request_)


# -- concepts, ping, and video concepts -------------------------------------------------------


def test_concepts_route_and_answer() -> None:
    """`GET /generations/concepts/list`, a list of strings."""
    built = OFFICIAL.concepts()
    assert (built.method, built.path, built.body) == ("GET", "/generations/concepts/list", None)
    keys = OFFICIAL.parse_concepts(response("official_concepts"))
    assert keys == fixture_json("official_concepts")
    assert "dolly_zoom" in keys


def test_concepts_as_key_objects_are_read_too() -> None:
    """Leniency: `{key}` objects (the shape sent on creates) give their keys; junk is dropped."""
    answer = ["orbit_left", {"key": "dolly_zoom"}, {"name": "x"}, ""]
    assert OFFICIAL.parse_concepts(response(answer)) == ["orbit_left", "dolly_zoom"]


def test_ping_route_and_answers() -> None:
    """`GET /ping`; pong is fine, a refused key raises like any other answer."""
    built = OFFICIAL.ping()
    assert (built.method, built.path) == ("GET", "/ping")
    OFFICIAL.parse_ping(response("official_ping"))
    OFFICIAL.parse_ping(response(b"", status=204))
    with pytest.raises(AuthenticationError):
        OFFICIAL.parse_ping(response("official_error_invalid_key", status=401))


def test_video_concepts_are_sent_as_key_objects() -> None:
    """`generate(..., concepts=[...])` sends `[{"key": k}]`."""
    body = body_of(OFFICIAL.submit(GenerateRequest("orbit the tower", concepts=["orbit_left"])))
    assert body["concepts"] == [{"key": "orbit_left"}]


@pytest.mark.parametrize("concepts", [[""], [3], "orbit_left"])
def test_bad_concepts_are_refused(concepts: Any) -> None:
    """Concepts are a list of non-empty strings."""
    with pytest.raises(InvalidRequestError, match="concepts"):
        OFFICIAL.submit(GenerateRequest("orbit the tower", concepts=concepts))


# -- relays have none of it ------------------------------------------------------------


NEW_REQUESTS: list[AnyRequest] = [
    ImageRequest("a lighthouse"),
    ModifyVideoRequest(VIDEO, "flex_1"),
    ReframeVideoRequest(VIDEO, "9:16"),
    ReframeImageRequest(IMAGE, "9:16"),
]


@pytest.mark.parametrize("name", RELAYS)
@pytest.mark.parametrize("request_", NEW_REQUESTS, ids=lambda r: r.kind)
def test_relays_refuse_every_new_create(name: str, request_: AnyRequest) -> None:
    """UnsupportedFeatureError naming the operation; nothing is built."""
    with pytest.raises(UnsupportedFeatureError, match=KIND_OPERATIONS[request_.kind]):
        DIALECTS[name]().create(request_)


@pytest.mark.parametrize("name", RELAYS)
def test_relays_refuse_concepts_and_ping(name: str) -> None:
    """No concepts route, no ping route, and no `concepts` option on a video."""
    dialect = DIALECTS[name]()
    for build in (dialect.concepts, dialect.ping):
        with pytest.raises(UnsupportedFeatureError):
            build()
    with pytest.raises(UnsupportedFeatureError, match="concepts"):
        dialect.submit(GenerateRequest("orbit the tower", concepts=["orbit_left"]))


def test_create_dispatches_every_kind_and_refuses_other_things() -> None:
    """`create` sends each request kind to its own route."""
    paths = {request.kind: OFFICIAL.create(request).path for request in NEW_REQUESTS}
    paths["video"] = OFFICIAL.create(GenerateRequest("a red fox")).path
    assert paths == {
        "video": "/generations/video",
        "image": "/generations/image",
        "modify_video": "/generations/video/modify",
        "reframe_video": "/generations/video/reframe",
        "reframe_image": "/generations/image/reframe",
    }
    with pytest.raises(TypeError):
        OFFICIAL.create("a red fox")  # type: ignore[arg-type]


# -- answers: the kind of a generation -------------------------------------------------


def test_a_completed_image_is_an_image_generation() -> None:
    """`generation_type: image` with `assets.image`: kind image, its ImageAsset, ok."""
    generation = OFFICIAL.parse_task(response("official_image_completed", status=201))
    assert generation.kind == "image"
    assert generation.image == ImageAsset("https://example.com/image.jpg")
    assert generation.video is None
    assert generation.ok
    assert generation.link == "https://example.com/image.jpg"


def test_an_image_without_a_type_is_known_by_its_model() -> None:
    """No `generation_type` (older answers): a Photon model makes it an image; not ok yet."""
    generation = OFFICIAL.parse_task(response("official_image_dreaming_no_type"))
    assert generation.kind == "image"
    assert generation.image is None
    assert generation.state is State.PROCESSING
    assert not generation.ok


def test_a_reframed_image_is_an_image_and_a_reframed_video_a_video() -> None:
    """Image reframes complete with `assets.image`; video reframes with a video + thumbnail."""
    image = OFFICIAL.parse_task(response("official_reframe_image_completed"))
    assert (image.kind, image.ok, image.link) == ("image", True, "https://example.com/reframed.png")
    video = OFFICIAL.parse_task(response("official_reframe_video_completed"))
    assert video.kind == "video"
    assert video.image is None
    assert video.video == VideoAsset(
        url="https://example.com/reframed.mp4",
        thumbnail_url="https://example.com/reframed_thumb.jpg",
    )
    assert video.ok


def test_a_queued_modify_is_a_video_without_a_link() -> None:
    """Null assets (what the service sends before it is done) are no link."""
    generation = OFFICIAL.parse_task(response("official_modify_queued", status=201))
    assert (generation.kind, generation.state, generation.ok) == ("video", State.QUEUED, False)
    assert generation.prompt == "in the style of a watercolour"


def test_a_new_generation_type_and_model_do_not_break_parsing() -> None:
    """Unknown type, model and asset names: parsed as a video, nothing refused."""
    generation = OFFICIAL.parse_task(response("official_new_generation_type"))
    assert generation.kind == "video"
    assert generation.ok
    assert generation.link == "https://example.com/holo.mp4"


def test_a_completed_image_without_its_link_is_not_ok() -> None:
    """`ok` means the link of its kind: an image task with a video link is not ok."""
    odd = Generation("x", State.COMPLETED, kind="image", video=VideoAsset(url=VIDEO))
    assert not odd.ok
    assert odd.link is None


# -- reconciling a lost create of the new shapes -------------------------------------------

SINCE = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)


def _listed(task_id: str, **request: Any) -> Any:
    return {
        "id": task_id,
        "state": "queued",
        "created_at": "2026-11-22T12:00:05Z",
        "request": request,
    }


def test_a_lost_image_create_matches_only_the_image_with_the_same_request() -> None:
    """A video with the same prompt, or an image with another ref, is not the lost image."""
    sent = OFFICIAL.image(ImageRequest("a lighthouse", image_ref=[IMAGE]))
    listing = {
        "generations": [
            _listed("video", prompt="a lighthouse", model="ray-2"),
            _listed(
                "other ref", prompt="a lighthouse", model="photon-1", image_ref=[{"url": VIDEO}]
            ),
            _listed(
                "typed video",
                generation_type="video",
                prompt="a lighthouse",
                model="photon-1",
                image_ref=[{"url": IMAGE}],
            ),
            _listed(
                "mine",
                generation_type="image",
                prompt="a lighthouse",
                model="photon-1",
                image_ref=[{"url": IMAGE}],
            ),
            _listed(
                "mine, untyped echo",
                prompt="a lighthouse",
                model="photon-1",
                image_ref=[{"url": IMAGE}],
            ),
        ]
    }
    found = OFFICIAL.parse_created(response(listing), sent, SINCE, set())
    assert found == ["mine", "mine, untyped echo"]


def test_a_lost_modify_matches_on_media_and_mode() -> None:
    """Same video, another mode: not ours."""
    sent = OFFICIAL.modify_video(ModifyVideoRequest(VIDEO, "flex_2"))
    listing = [
        _listed(
            "other mode",
            generation_type="modify_video",
            media={"url": VIDEO},
            model="ray-2",
            mode="flex_3",
        ),
        _listed(
            "other video",
            generation_type="modify_video",
            media={"url": IMAGE},
            model="ray-2",
            mode="flex_2",
        ),
        _listed(
            "mine",
            generation_type="modify_video",
            media={"url": VIDEO},
            model="ray-2",
            mode="flex_2",
        ),
    ]
    assert OFFICIAL.parse_created(response(listing), sent, SINCE, set()) == ["mine"]

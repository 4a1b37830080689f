"""Requests each dialect builds: methods, paths, exact JSON bodies, and every refusal."""

from __future__ import annotations

import base64
import functools
import json
import pathlib
from collections.abc import Callable
from typing import Any

import pytest

from luma_async._errors import InvalidRequestError, UnsupportedFeatureError
from luma_async._http import HttpRequest
from luma_async._models import GenerateRequest
from luma_async.dialects import (
    DIALECTS,
    MAX_IMAGE_BYTES,
    OPERATIONS,
    OPTIONS,
    AnyAPI,
    Dialect,
    GptGe,
    Official,
    RixAPI,
    XFusion,
    get_dialect,
)

ALL = ("official", "anyapi", "rixapi", "xfusion", "gptge")
RELAYS = ("anyapi", "rixapi", "xfusion", "gptge")
TASK_ID = "9d4b7516-77e5-481a-b015-48313946f33b"
#: An id with every character that must not reach a path raw, and its quoted form.
ODD_ID = "a/b?c#d e%f&任务"
ODD_ID_QUOTED = "a%2Fb%3Fc%23d%20e%25f%26%E4%BB%BB%E5%8A%A1"
IMAGE = "https://example.com/start.png"
END_IMAGE = "https://example.com/end.png"
DATA_URI = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4"
    "DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
)
HOOK = "https://example.com/hook"

# -- DIALECTS.md §0, transcribed word for word ------------------------------------------------

#: The "options" row of DIALECTS.md §0, as written there.
OPTIONS_ROW = {
    "official": (
        "prompt, model, aspect_ratio, resolution, duration, loop, keyframes, concepts, callback_url"
    ),
    "anyapi": "prompt, model, resolution, duration, loop, expand_prompt, images, callback",
    "rixapi": "prompt, aspect_ratio, loop, expand_prompt, images, callback",
    "xfusion": "prompt, aspect_ratio, expand_prompt, images, callback",
    "gptge": "prompt, aspect_ratio, loop, expand_prompt, images, callback",
}
#: How the row's words map to `GenerateRequest` options (the prompt is not an option).
ROW_WORDS: dict[str, tuple[str, ...]] = {
    "prompt": (),
    "model": ("model",),
    "aspect_ratio": ("aspect_ratio",),
    "resolution": ("resolution",),
    "duration": ("duration",),
    "loop": ("loop",),
    "expand_prompt": ("expand_prompt",),
    "keyframes": ("start_image", "end_image"),
    "images": ("start_image", "end_image"),
    "callback": ("callback_url",),
    "concepts": ("concepts",),
    "callback_url": ("callback_url",),
}
RELAY_OPERATIONS = {"submit", "extend", "get", "batch", "no_watermark"}
#: The operation rows of DIALECTS.md §0 (submit/extend/query, batch, no-watermark, audio, ...).
OPERATIONS_ROW = {
    "official": RELAY_OPERATIONS
    | {"audio", "list", "delete", "upscale", "credits"}
    # "images (Photon), modify, reframe, concepts, ping": DIALECTS.md §0 and §8.
    | {"image", "modify_video", "reframe_video", "reframe_image", "concepts", "ping"},
    "anyapi": RELAY_OPERATIONS,
    "rixapi": RELAY_OPERATIONS | {"audio"},
    "xfusion": RELAY_OPERATIONS,
    "gptge": RELAY_OPERATIONS,
}
BASE_URL_ROW = {
    "official": "https://api.lumalabs.ai/dream-machine/v1",
    "anyapi": "https://www.anyapi.vip",
    "rixapi": None,
    "xfusion": None,
    "gptge": "https://api.gpt.ge",
}
#: "required, filled when not given": option -> (wire field, value).
REQUIRED_ROW: dict[str, dict[str, tuple[str, str]]] = {
    "official": {"model": ("model", "ray-2")},
    "anyapi": {},
    "rixapi": {"aspect_ratio": ("aspect_ratio", "16:9")},
    "xfusion": {},
    "gptge": {},
}
RELAY_RATIOS = {"1:1", "4:3", "3:4", "16:9", "9:16"}
#: The accepted values in DIALECTS.md §0's paragraph under the table.
VALUES_ROW: dict[str, dict[str, Any]] = {
    "official": {
        "aspect_ratios": RELAY_RATIOS | {"21:9", "9:21"},
        "models": {"ray-2": "ray-2", "ray-flash-2": "ray-flash-2", "ray-1-6": "ray-1-6"},
        "resolutions": {"540p", "720p", "1080p", "4k"},
        "durations": {"5s", "9s"},
        "prompt_length": (3, 5000),
    },
    "anyapi": {
        "aspect_ratios": RELAY_RATIOS,
        "models": {"ray-1-6": "ray-v1", "ray-2": "ray-v2", "ray-v1": "ray-v1", "ray-v2": "ray-v2"},
        "resolutions": {"720p", "1080p"},
        "durations": {"5s"},
    },
    "rixapi": {"aspect_ratios": RELAY_RATIOS},
    "xfusion": {"aspect_ratios": RELAY_RATIOS},
    "gptge": {"aspect_ratios": RELAY_RATIOS},
}


def options_of(name: str) -> set[str]:
    """The `GenerateRequest` options DIALECTS.md §0 gives dialect `name`."""
    words = [word.strip() for word in OPTIONS_ROW[name].split(",")]
    return {option for word in words for option in ROW_WORDS[word]}


#: A value DIALECTS.md accepts for each option, to show that the option itself is refused.
OPTION_SAMPLES: dict[str, Any] = {
    "aspect_ratio": "16:9",
    "model": "ray-2",
    "resolution": "720p",
    "duration": "5s",
    "loop": True,
    "expand_prompt": True,
    "start_image": IMAGE,
    "end_image": END_IMAGE,
    "callback_url": HOOK,
    "concepts": ["dolly_zoom"],
}


def body_of(request: HttpRequest) -> Any:
    """The JSON body of a built request."""
    assert request.body is not None
    return json.loads(request.body)


def official(dialect: Dialect) -> Official:
    """`dialect` as the official one, for its own builders."""
    assert isinstance(dialect, Official)
    return dialect


def rixapi(dialect: Dialect) -> RixAPI:
    """`dialect` as RixAPI, for its audio route switch."""
    assert isinstance(dialect, RixAPI)
    return dialect


# -- the registry --------------------------------------------------------------------------


def test_registry_holds_every_dialect() -> None:
    """DIALECTS maps the five documented names to their classes."""
    expected = {
        "official": Official,
        "anyapi": AnyAPI,
        "rixapi": RixAPI,
        "xfusion": XFusion,
        "gptge": GptGe,
    }
    assert expected == DIALECTS


@pytest.mark.parametrize("name", ALL)
def test_get_dialect_by_name(name: str) -> None:
    """get_dialect builds the dialect of that name, ignoring case and spaces."""
    assert type(get_dialect(name)) is DIALECTS[name]
    assert type(get_dialect(f" {name.upper()} ")) is DIALECTS[name]
    assert get_dialect(name).name == name


def test_get_dialect_passes_an_instance_through() -> None:
    """A Dialect object is used as given, prefix and all."""
    dialect = RixAPI(prefix="/vip", audio_route="task_id")
    assert get_dialect(dialect) is dialect


def test_get_dialect_refuses_an_unknown_name() -> None:
    """An unknown name is a ValueError that lists the known ones."""
    with pytest.raises(ValueError, match="official"):
        get_dialect("midjourney")


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [("", ""), ("/", ""), ("/pro", "/pro"), ("pro", "/pro"), ("/vip/", "/vip"), ("a/b", "/a/b")],
)
def test_prefix_is_normalised(prefix: str, expected: str) -> None:
    """A channel prefix gets one leading slash and no trailing one."""
    assert GptGe(prefix=prefix).prefix == expected


# -- the capability table against DIALECTS.md §0 ------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_operations_match_dialects_md(name: str) -> None:
    """Each dialect offers exactly the operations of its DIALECTS.md §0 column."""
    dialect = get_dialect(name)
    assert set(dialect.operations) == OPERATIONS_ROW[name]
    assert set(dialect.operations) <= set(OPERATIONS)


@pytest.mark.parametrize("name", ALL)
def test_options_match_dialects_md(name: str) -> None:
    """Each dialect takes exactly the options of its DIALECTS.md §0 options row."""
    dialect = get_dialect(name)
    assert set(dialect.options) == options_of(name)
    assert set(dialect.options) <= set(OPTIONS)


@pytest.mark.parametrize("name", ALL)
def test_base_url_matches_dialects_md(name: str) -> None:
    """The public base URL is DIALECTS.md §0's (none for RixAPI and xfusion)."""
    assert get_dialect(name).default_base_url == BASE_URL_ROW[name]


@pytest.mark.parametrize("name", ALL)
def test_accepted_values_match_dialects_md(name: str) -> None:
    """Aspect ratios, models (ours -> wire), resolutions, durations are DIALECTS.md §0's."""
    dialect = get_dialect(name)
    row = VALUES_ROW[name]
    assert set(dialect.aspect_ratios) == row["aspect_ratios"]
    if "model" in dialect.options:
        # Every documented name is accepted and sent as documented; the official dialect
        # also takes AnyAPI's names for the same models (an extension, mapped to official ones).
        for ours, wire in row["models"].items():
            assert dialect.models[ours] == wire
        assert set(dialect.models.values()) == set(row["models"].values())
    if "resolution" in dialect.options:
        assert set(dialect.resolutions) == row["resolutions"]
    if "duration" in dialect.options:
        assert set(dialect.durations) == row["durations"]
    if "prompt_length" in row:
        assert dialect.prompt_length == row["prompt_length"]


@pytest.mark.parametrize("name", ALL)
def test_required_fields_are_filled_as_dialects_md_says(name: str) -> None:
    """A request naming nothing gets exactly the §0 "filled when not given" fields."""
    body = body_of(get_dialect(name).submit(GenerateRequest("cat dance")))
    filled = dict(REQUIRED_ROW[name].values())
    prompt_field = "user_prompt" if name in ("anyapi", "xfusion", "gptge") else "prompt"
    assert body == {prompt_field: "cat dance", **filled}


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_require_and_supports_follow_the_operations(name: str, operation: str) -> None:
    """require() raises UnsupportedFeatureError exactly for operations the dialect lacks."""
    dialect = get_dialect(name)
    if operation in OPERATIONS_ROW[name]:
        assert dialect.supports(operation)
        dialect.require(operation)
    else:
        assert not dialect.supports(operation)
        with pytest.raises(UnsupportedFeatureError, match=operation):
            dialect.require(operation)


@pytest.mark.parametrize("name", ["anyapi", "xfusion", "gptge"])
def test_audio_builder_refused_without_the_operation(name: str) -> None:
    """The audio builder of a dialect without video-to-audio raises UnsupportedFeatureError."""
    with pytest.raises(UnsupportedFeatureError, match="audio"):
        get_dialect(name).audio(TASK_ID, "waves", None, None)


# -- routes --------------------------------------------------------------------------------

Build = Callable[[Dialect, str], "HttpRequest | None"]
REQUEST = GenerateRequest("cat dance")

#: (dialect, what, builder, method, path template) for every builder of every dialect.
ROUTES: list[tuple[str, str, Build, str, str]] = [
    ("official", "submit", lambda d, i: d.submit(REQUEST), "POST", "/generations/video"),
    ("official", "extend", lambda d, i: d.extend(i, REQUEST), "POST", "/generations/video"),
    ("official", "get", lambda d, i: d.get(i), "GET", "/generations/{id}"),
    ("official", "batch", lambda d, i: d.batch([i]), "GET", "/generations"),
    ("official", "list", lambda d, i: official(d).listing(), "GET", "/generations"),
    ("official", "delete", lambda d, i: official(d).delete(i), "DELETE", "/generations/{id}"),
    (
        "official",
        "upscale",
        lambda d, i: official(d).upscale(i, "1080p"),
        "POST",
        "/generations/{id}/upscale",
    ),
    (
        "official",
        "audio",
        lambda d, i: d.audio(i, "waves", None, None),
        "POST",
        "/generations/{id}/audio",
    ),
    ("official", "credits", lambda d, i: official(d).credits(), "GET", "/credits"),
    *[
        route
        for name in RELAYS
        for route in (
            (name, "submit", lambda d, i: d.submit(REQUEST), "POST", "/luma/generations"),
            (
                name,
                "extend",
                lambda d, i: d.extend(i, REQUEST),
                "POST",
                "/luma/generations/{id}/extend",
            ),
            (name, "get", lambda d, i: d.get(i), "GET", "/luma/generations/{id}"),
            (name, "batch", lambda d, i: d.batch([i]), "POST", "/luma/tasks"),
            (
                name,
                "no_watermark",
                lambda d, i: d.no_watermark(i),
                "GET",
                "/luma/generations/{id}/download_video_url",
            ),
        )
    ],
    (
        "rixapi",
        "audio",
        lambda d, i: d.audio(i, "waves", None, None),
        "POST",
        "/luma/generations/{id}/audio",
    ),
]
ROUTE_IDS = [f"{name}-{what}" for name, what, *_ in ROUTES]


@pytest.mark.parametrize("prefix", ["", "/pro"])
@pytest.mark.parametrize(("name", "what", "build", "method", "template"), ROUTES, ids=ROUTE_IDS)
def test_route(name: str, what: str, build: Build, method: str, template: str, prefix: str) -> None:
    """Every builder's method and path, with and without a channel prefix."""
    request = build(DIALECTS[name](prefix=prefix), TASK_ID)
    assert request is not None
    assert request.method == method
    assert request.path == prefix + template.replace("{id}", TASK_ID)
    if method in ("GET", "DELETE"):
        assert request.body is None
    else:
        assert request.body is not None


@pytest.mark.parametrize(
    ("name", "what", "build", "method", "template"),
    [route for route in ROUTES if "{id}" in route[4]],
    ids=[f"{route[0]}-{route[1]}" for route in ROUTES if "{id}" in route[4]],
)
def test_odd_ids_are_quoted_into_the_path(
    name: str, what: str, build: Build, method: str, template: str
) -> None:
    """Slashes, ?, #, spaces, % and non-ASCII in an id are percent-quoted, never raw."""
    request = build(DIALECTS[name](prefix="/pro"), ODD_ID)
    assert request is not None
    assert request.path == "/pro" + template.replace("{id}", ODD_ID_QUOTED)


def test_official_has_no_watermark_route() -> None:
    """The official API's clean link is the video asset itself: no route to ask."""
    assert Official().no_watermark(TASK_ID) is None


def test_official_older_submit_path() -> None:
    """Older official deployments take `POST /generations`, configurable on the dialect."""
    dialect = Official(prefix="/luma-official", submit_path="/generations")
    assert dialect.submit(REQUEST).path == "/luma-official/generations"
    assert dialect.extend(TASK_ID, REQUEST).path == "/luma-official/generations"


@pytest.mark.parametrize("name", RELAYS)
def test_relay_batch_body(name: str) -> None:
    """A relay batch query posts `{"ids": [...]}` in the order given."""
    request = get_dialect(name).batch(["b", "a", "c"])
    assert body_of(request) == {"ids": ["b", "a", "c"]}


@pytest.mark.parametrize(("count", "limit"), [(0, 1), (1, 1), (42, 42), (100, 100), (250, 100)])
def test_official_batch_is_the_list_endpoint(count: int, limit: int) -> None:
    """The official batch query lists as many recent generations as ids asked, 1..100."""
    request = Official().batch([f"id-{n}" for n in range(count)])
    assert (request.method, request.path) == ("GET", "/generations")
    assert request.params == (("limit", str(limit)), ("offset", "0"))


def test_official_listing_params() -> None:
    """`listing` sends limit and offset as query parameters."""
    request = Official().listing(limit=20, offset=40)
    assert request.params == (("limit", "20"), ("offset", "40"))
    assert Official().listing().params == (("limit", "100"), ("offset", "0"))


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (-1, 0), (10, -1)])
def test_official_listing_refuses_bad_paging(limit: int, offset: int) -> None:
    """A limit below 1 or a negative offset is refused before sending."""
    with pytest.raises(InvalidRequestError):
        Official().listing(limit=limit, offset=offset)


@pytest.mark.parametrize("resolution", ["540p", "720p", "1080p", "4k"])
def test_official_upscale_body(resolution: str) -> None:
    """An upscale posts `generation_type: upscale_video` and the resolution."""
    request = Official().upscale(TASK_ID, resolution)
    assert body_of(request) == {"generation_type": "upscale_video", "resolution": resolution}


@pytest.mark.parametrize("resolution", ["8k", "720", "", "1080P"])
def test_official_upscale_refuses_unknown_resolution(resolution: str) -> None:
    """An upscale to a resolution the API lacks is refused before sending."""
    with pytest.raises(InvalidRequestError, match="resolution"):
        Official().upscale(TASK_ID, resolution)


# -- audio ---------------------------------------------------------------------------------


def test_official_audio_body() -> None:
    """Official audio: `generation_type: add_audio`, prompt, negative prompt, callback_url."""
    request = Official().audio(TASK_ID, "waves and gulls", "music", HOOK)
    assert body_of(request) == {
        "generation_type": "add_audio",
        "prompt": "waves and gulls",
        "negative_prompt": "music",
        "callback_url": HOOK,
    }
    minimal = Official().audio(TASK_ID, "waves", None, None)
    assert body_of(minimal) == {"generation_type": "add_audio", "prompt": "waves"}


def test_rixapi_audio_route_body() -> None:
    """RixAPI audio by route: `{prompt, negative_prompt, notify_hook}` to `/{id}/audio`."""
    request = RixAPI(prefix="/pro").audio(ODD_ID, "waves", "music", HOOK)
    assert request.path == f"/pro/luma/generations/{ODD_ID_QUOTED}/audio"
    assert body_of(request) == {"prompt": "waves", "negative_prompt": "music", "notify_hook": HOOK}
    assert body_of(RixAPI().audio(TASK_ID, "waves", None, None)) == {"prompt": "waves"}


def test_rixapi_audio_task_id_body() -> None:
    """RixAPI audio by `task_id`: a submit carrying the task id, as seed 002 hints."""
    dialect = RixAPI(prefix="/pro", audio_route="task_id")
    request = dialect.audio(ODD_ID, "waves", None, HOOK)
    assert (request.method, request.path) == ("POST", "/pro/luma/generations")
    assert body_of(request) == {
        "prompt": "waves",
        "notify_hook": HOOK,
        "task_id": ODD_ID,
        "aspect_ratio": "16:9",
    }


# -- submit bodies ---------------------------------------------------------------------------

TEXT_BODIES = {
    "official": {"prompt": "cat dance", "model": "ray-2"},
    "anyapi": {"user_prompt": "cat dance"},
    "rixapi": {"prompt": "cat dance", "aspect_ratio": "16:9"},
    "xfusion": {"user_prompt": "cat dance"},
    "gptge": {"user_prompt": "cat dance"},
}


@pytest.mark.parametrize("name", ALL)
def test_text_to_video_body(name: str) -> None:
    """A bare text-to-video request: the prompt under the dialect's name, required defaults."""
    request = get_dialect(name).submit(GenerateRequest("cat dance"))
    assert request.body is not None
    assert body_of(request) == TEXT_BODIES[name]


@pytest.mark.parametrize("name", ALL)
def test_prompt_is_sent_as_given(name: str) -> None:
    """A Chinese prompt with surrounding spaces reaches the wire unchanged, as UTF-8 JSON."""
    prompt = "  一阵风吹过树林,使女人的面纱微微飘动。 "
    body = body_of(get_dialect(name).submit(GenerateRequest(prompt)))
    field = "prompt" if name in ("official", "rixapi") else "user_prompt"
    assert body[field] == prompt


def frames(start: str | None, end: str | None) -> dict[str, Any]:
    """Official/RixAPI keyframes for a start and an end image."""
    out = {}
    if start is not None:
        out["frame0"] = {"type": "image", "url": start}
    if end is not None:
        out["frame1"] = {"type": "image", "url": end}
    return {"keyframes": out}


def image_fields(name: str, start: str | None, end: str | None) -> dict[str, Any]:
    """The wire fields for a start and an end image in dialect `name`."""
    if name in ("official", "rixapi"):
        return frames(start, end)
    out = {}
    if start is not None:
        out["image_url"] = start
    if end is not None:
        out["image_end_url"] = end
    return out


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(
    ("start", "end"),
    [(IMAGE, None), (None, END_IMAGE), (IMAGE, END_IMAGE), (DATA_URI, DATA_URI)],
    ids=["start", "end", "both", "data-uris"],
)
def test_image_bodies(name: str, start: str | None, end: str | None) -> None:
    """Images: `image_url`/`image_end_url`, or `keyframes.frame0/frame1` (official, RixAPI)."""
    request = get_dialect(name).submit(
        GenerateRequest("cat dance", start_image=start, end_image=end)
    )
    assert body_of(request) == {**TEXT_BODIES[name], **image_fields(name, start, end)}


#: (dialect, one option as keyword arguments, the fields it adds or replaces on the wire)
OPTION_BODIES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("official", {"aspect_ratio": "21:9"}, {"aspect_ratio": "21:9"}),
    ("official", {"aspect_ratio": "9:16"}, {"aspect_ratio": "9:16"}),
    ("official", {"model": "ray-flash-2"}, {"model": "ray-flash-2"}),
    ("official", {"model": "ray-1-6"}, {"model": "ray-1-6"}),
    ("official", {"model": "ray-2"}, {"model": "ray-2"}),
    ("official", {"resolution": "4k"}, {"resolution": "4k"}),
    ("official", {"resolution": "540p"}, {"resolution": "540p"}),
    ("official", {"duration": "9s"}, {"duration": "9s"}),
    ("official", {"duration": 5}, {"duration": "5s"}),
    ("official", {"duration": 9}, {"duration": "9s"}),
    ("official", {"loop": True}, {"loop": True}),
    ("official", {"loop": False}, {"loop": False}),
    ("official", {"callback_url": HOOK}, {"callback_url": HOOK}),
    ("anyapi", {"model": "ray-2"}, {"model_name": "ray-v2"}),
    ("anyapi", {"model": "ray-1-6"}, {"model_name": "ray-v1"}),
    ("anyapi", {"model": "ray-v2"}, {"model_name": "ray-v2"}),
    ("anyapi", {"model": "ray-v1"}, {"model_name": "ray-v1"}),
    ("anyapi", {"resolution": "720p"}, {"resolution": "720p"}),
    ("anyapi", {"resolution": "1080p"}, {"resolution": "1080p"}),
    ("anyapi", {"duration": "5s"}, {"duration": "5s"}),
    ("anyapi", {"duration": 5}, {"duration": "5s"}),
    ("anyapi", {"loop": True}, {"loop": True}),
    ("anyapi", {"loop": False}, {"loop": False}),
    ("anyapi", {"expand_prompt": True}, {"expand_prompt": True}),
    ("anyapi", {"expand_prompt": False}, {"expand_prompt": False}),
    ("anyapi", {"callback_url": HOOK}, {"notify_hook": HOOK}),
    ("rixapi", {"aspect_ratio": "9:16"}, {"aspect_ratio": "9:16"}),
    ("rixapi", {"aspect_ratio": "1:1"}, {"aspect_ratio": "1:1"}),
    ("rixapi", {"loop": True}, {"loop": True}),
    ("rixapi", {"expand_prompt": True}, {"expand_prompt": True}),
    ("rixapi", {"expand_prompt": False}, {"expand_prompt": False}),
    ("rixapi", {"callback_url": HOOK}, {"notify_hook": HOOK}),
    ("xfusion", {"aspect_ratio": "4:3"}, {"aspect_ratio": "4:3"}),
    ("xfusion", {"expand_prompt": True}, {"expand_prompt": "true"}),
    ("xfusion", {"expand_prompt": False}, {"expand_prompt": "false"}),
    ("xfusion", {"callback_url": HOOK}, {"notify_hook": HOOK}),
    ("gptge", {"aspect_ratio": "3:4"}, {"aspect_ratio": "3:4"}),
    ("gptge", {"loop": True}, {"loop": True}),
    ("gptge", {"expand_prompt": True}, {"expand_prompt": True}),
    ("gptge", {"expand_prompt": False}, {"expand_prompt": False}),
    ("gptge", {"callback_url": HOOK}, {"notify_hook": HOOK}),
]


@pytest.mark.parametrize(
    ("name", "option", "fields"),
    OPTION_BODIES,
    ids=[f"{name}-{next(iter(option.items()))}" for name, option, _ in OPTION_BODIES],
)
def test_option_on_the_wire(name: str, option: dict[str, Any], fields: dict[str, Any]) -> None:
    """Each option a dialect has goes out under its wire name and spelling, nothing else."""
    body = body_of(get_dialect(name).submit(GenerateRequest("cat dance", **option)))
    assert body == {**TEXT_BODIES[name], **fields}


@pytest.mark.parametrize(
    ("name", "option", "fields"),
    OPTION_BODIES,
    ids=[f"{name}-{next(iter(option.items()))}" for name, option, _ in OPTION_BODIES],
)
def test_option_on_the_wire_for_extend(
    name: str, option: dict[str, Any], fields: dict[str, Any]
) -> None:
    """An extend carries the same option fields as a submit."""
    body = body_of(get_dialect(name).extend(TASK_ID, GenerateRequest("cat dance", **option)))
    expected = {**TEXT_BODIES[name], **fields}
    if name == "official":
        expected["keyframes"] = {"frame0": {"type": "generation", "id": TASK_ID}}
    assert body == expected


def test_every_option_at_once_anyapi() -> None:
    """AnyAPI with all its options: seed 001's field names, and nothing more."""
    request = GenerateRequest(
        "cat dance",
        model="ray-2",
        resolution="1080p",
        duration=5,
        loop=True,
        expand_prompt=False,
        start_image=IMAGE,
        end_image=END_IMAGE,
        callback_url=HOOK,
    )
    assert body_of(AnyAPI().submit(request)) == {
        "user_prompt": "cat dance",
        "model_name": "ray-v2",
        "resolution": "1080p",
        "duration": "5s",
        "loop": True,
        "expand_prompt": False,
        "image_url": IMAGE,
        "image_end_url": END_IMAGE,
        "notify_hook": HOOK,
    }


def test_every_option_at_once_official() -> None:
    """Official with all its options: the OpenAPI GenerationRequest field names."""
    request = GenerateRequest(
        "A serene lake surrounded by mountains at sunset",
        aspect_ratio="9:21",
        model="ray-flash-2",
        resolution="720p",
        duration="5s",
        loop=False,
        start_image=IMAGE,
        end_image=END_IMAGE,
        callback_url=HOOK,
    )
    assert body_of(Official().submit(request)) == {
        "prompt": "A serene lake surrounded by mountains at sunset",
        "model": "ray-flash-2",
        "aspect_ratio": "9:21",
        "resolution": "720p",
        "duration": "5s",
        "loop": False,
        "callback_url": HOOK,
        **frames(IMAGE, END_IMAGE),
    }


# -- the seeds' own examples, rebuilt ----------------------------------------------------------


def test_seed_001_anyapi_submit_example() -> None:
    """Seed 001's example body comes out of the matching request, field for field."""
    request = GenerateRequest(
        "一阵风吹过树林,使女人的面纱微微飘动。", model="ray-2", duration="5s", resolution="720p"
    )
    built = AnyAPI().submit(request)
    assert (built.method, built.path) == ("POST", "/luma/generations")
    assert body_of(built) == {
        "user_prompt": "一阵风吹过树林,使女人的面纱微微飘动。",
        "model_name": "ray-v2",
        "duration": "5s",
        "resolution": "720p",
    }


def test_seed_000_anyapi_extend_example() -> None:
    """Seed 000's extend example: path with the task id, `{user_prompt, expand_prompt}`."""
    built = AnyAPI().extend(
        "4665a07c-7641-4809-a133-10786201bb56", GenerateRequest("add cat", expand_prompt=True)
    )
    assert built.path == "/luma/generations/4665a07c-7641-4809-a133-10786201bb56/extend"
    assert body_of(built) == {"user_prompt": "add cat", "expand_prompt": True}


def test_seed_002_rixapi_image_example() -> None:
    """Seed 002's image-to-video example: `prompt`, `aspect_ratio`, `keyframes.frame0`."""
    url = "https://www.shutterstock.com/image-photo/beautifull-red-black-bengal-tiger-260nw-2526207017.jpg"
    built = RixAPI().submit(GenerateRequest("cat dance", aspect_ratio="16:9", start_image=url))
    assert body_of(built) == {
        "prompt": "cat dance",
        "aspect_ratio": "16:9",
        "keyframes": {"frame0": {"type": "image", "url": url}},
    }


def test_seed_003_xfusion_example() -> None:
    """Seed 003's example, with `expand_prompt` as the string "true"."""
    request = GenerateRequest(
        "cat dance",
        aspect_ratio="16:9",
        expand_prompt=True,
        start_image="http://dummyimage.com/400x400",
        end_image="http://dummyimage.com/400x400",
        callback_url="enim",
    )
    assert body_of(XFusion().submit(request)) == {
        "user_prompt": "cat dance",
        "aspect_ratio": "16:9",
        "expand_prompt": "true",
        "image_url": "http://dummyimage.com/400x400",
        "image_end_url": "http://dummyimage.com/400x400",
        "notify_hook": "enim",
    }


def test_seed_004_gptge_example() -> None:
    """Seed 004's curl example, field for field."""
    request = GenerateRequest(
        "cat dance",
        expand_prompt=True,
        start_image="https://example.com/reference.png",
        end_image="https://example.com/keyframe.png",
        callback_url="https://example.com/hook",
        loop=True,
        aspect_ratio="16:9",
    )
    assert body_of(GptGe().submit(request)) == {
        "user_prompt": "cat dance",
        "expand_prompt": True,
        "image_url": "https://example.com/reference.png",
        "image_end_url": "https://example.com/keyframe.png",
        "notify_hook": "https://example.com/hook",
        "loop": True,
        "aspect_ratio": "16:9",
    }


def test_official_openapi_keyframes_example() -> None:
    """The OpenAPI "Image to video keyframes" example, plus the model the API requires."""
    request = GenerateRequest(
        "A serene lake surrounded by mountains at sunset",
        aspect_ratio="16:9",
        start_image="https://example.com/image.jpg",
        end_image="https://example.com/image.jpg",
    )
    assert body_of(Official().submit(request)) == {
        "prompt": "A serene lake surrounded by mountains at sunset",
        "model": "ray-2",
        "aspect_ratio": "16:9",
        "keyframes": {
            "frame0": {"type": "image", "url": "https://example.com/image.jpg"},
            "frame1": {"type": "image", "url": "https://example.com/image.jpg"},
        },
    }


# -- extend --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", RELAYS)
def test_relay_extend_body_equals_submit_body(name: str) -> None:
    """A relay extend sends exactly the submit's body; only the path names the task."""
    dialect = get_dialect(name)
    options = {k: v for k, v in OPTION_SAMPLES.items() if k in dialect.options}
    request = GenerateRequest("cat dance", **options)
    assert dialect.extend(TASK_ID, request).body == dialect.submit(request).body


def test_official_extend_is_a_generation_keyframe() -> None:
    """An official extend is a new generation whose frame0 is `{type: generation, id}`."""
    built = Official().extend(ODD_ID, GenerateRequest("the cat keeps dancing"))
    assert (built.method, built.path) == ("POST", "/generations/video")
    assert body_of(built) == {
        "prompt": "the cat keeps dancing",
        "model": "ray-2",
        "keyframes": {"frame0": {"type": "generation", "id": ODD_ID}},
    }


def test_official_extend_towards_an_end_image() -> None:
    """An official extend may still end on an image: frame1 `{type: image, url}`."""
    built = Official().extend(TASK_ID, GenerateRequest("to the end", end_image=END_IMAGE))
    assert body_of(built)["keyframes"] == {
        "frame0": {"type": "generation", "id": TASK_ID},
        "frame1": {"type": "image", "url": END_IMAGE},
    }


def test_official_extend_refuses_a_start_image() -> None:
    """An official extend starts from its task, so a start image is refused."""
    with pytest.raises(InvalidRequestError, match="start_image"):
        Official().extend(TASK_ID, GenerateRequest("cat dance", start_image=IMAGE))


# -- extra_body ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_extra_body_is_merged(name: str) -> None:
    """`extra_body` fields are added to the JSON as given."""
    extra = {"concepts": [{"key": "dolly_zoom"}], "server_id": "srv-1", "n": None}
    body = body_of(get_dialect(name).submit(GenerateRequest("cat dance", extra_body=extra)))
    assert body == {**TEXT_BODIES[name], **extra}


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("official", {"model": "ray-3"}),
        ("anyapi", {"model_name": "ray-v3"}),
        ("rixapi", {"aspect_ratio": "2:1"}),
        ("gptge", {"user_prompt": "overridden"}),
    ],
)
def test_extra_body_wins_over_built_fields(name: str, extra: dict[str, Any]) -> None:
    """`extra_body` is merged last, so it can send what the dialect would not."""
    body = body_of(get_dialect(name).submit(GenerateRequest("cat dance", extra_body=extra)))
    assert body == {**TEXT_BODIES[name], **extra}


def test_extra_body_is_not_modified() -> None:
    """Building a request leaves the caller's `extra_body` dict as it was."""
    extra: dict[str, Any] = {"server_id": "srv-1"}
    AnyAPI().submit(GenerateRequest("cat dance", extra_body=extra))
    assert extra == {"server_id": "srv-1"}


# -- refusals: options a dialect lacks -------------------------------------------------------

UNSUPPORTED = [
    (name, option) for name in ALL for option in OPTIONS if option not in options_of(name)
]


@pytest.mark.parametrize(("name", "option"), UNSUPPORTED, ids=[f"{n}-{o}" for n, o in UNSUPPORTED])
def test_option_outside_the_row_is_unsupported(name: str, option: str) -> None:
    """An option outside the dialect's DIALECTS.md §0 row raises UnsupportedFeatureError."""
    request = GenerateRequest("cat dance", **{option: OPTION_SAMPLES[option]})
    with pytest.raises(UnsupportedFeatureError, match=option):
        get_dialect(name).submit(request)
    with pytest.raises(UnsupportedFeatureError, match=option):
        get_dialect(name).extend(TASK_ID, request)


@pytest.mark.parametrize(
    ("name", "option"),
    [("official", "expand_prompt"), ("xfusion", "loop"), ("anyapi", "aspect_ratio")],
)
def test_false_is_still_an_option(name: str, option: str) -> None:
    """`False` (or any value but None) for a missing option is refused too: it is not "unset"."""
    value: Any = "" if option == "aspect_ratio" else False
    with pytest.raises(UnsupportedFeatureError):
        get_dialect(name).submit(GenerateRequest("cat dance", **{option: value}))


# -- refusals: values a dialect does not accept -------------------------------------------------

INVALID_VALUES: list[tuple[str, dict[str, Any]]] = [
    *[
        (name, {"aspect_ratio": ratio})
        for name in ("rixapi", "xfusion", "gptge")
        for ratio in ("21:9", "9:21", "2:1", "16x9", "")
    ],
    *[("official", {"aspect_ratio": ratio}) for ratio in ("2:1", "16x9", "", "16:10")],
    *[("anyapi", {"model": model}) for model in ("ray-flash-2", "ray-3", "RAY-2", "")],
    *[("official", {"model": model}) for model in ("ray-3", "ray-v3", "photon-1", "")],
    *[("anyapi", {"resolution": res}) for res in ("540p", "4k", "720", "")],
    *[("official", {"resolution": res}) for res in ("8k", "480p", "")],
    *[("anyapi", {"duration": d}) for d in ("9s", 9, "5", 10, 0, "")],
    *[("official", {"duration": d}) for d in ("10s", 10, "5", -5, "")],
]


@pytest.mark.parametrize(
    ("name", "option"), INVALID_VALUES, ids=[f"{n}-{o!r}" for n, o in INVALID_VALUES]
)
def test_value_not_accepted_is_invalid(name: str, option: dict[str, Any]) -> None:
    """A value outside what the dialect accepts raises InvalidRequestError (submit and extend)."""
    request = GenerateRequest("cat dance", **option)
    with pytest.raises(InvalidRequestError, match=next(iter(option))):
        get_dialect(name).submit(request)
    with pytest.raises(InvalidRequestError):
        get_dialect(name).extend(TASK_ID, request)


@pytest.mark.parametrize("name", ["official", "anyapi"])
@pytest.mark.parametrize("duration", [True, False, 5.0])
def test_duration_of_the_wrong_type_is_invalid(name: str, duration: Any) -> None:
    """A duration that is a bool or a float is neither a string nor whole seconds."""
    with pytest.raises(InvalidRequestError, match="duration"):
        get_dialect(name).submit(GenerateRequest("cat dance", duration=duration))


def test_invalid_request_error_is_a_value_error() -> None:
    """InvalidRequestError is also a ValueError, as API.md's tree says."""
    with pytest.raises(ValueError, match="aspect_ratio"):
        GptGe().submit(GenerateRequest("cat dance", aspect_ratio="2:1"))  # type: ignore[arg-type]


PROMPTS: list[tuple[str, str]] = [
    *[(name, "") for name in RELAYS],
    *[(name, "   \n ") for name in RELAYS],
    *[(name, "x" * 5001) for name in ALL],
    ("official", ""),
    ("official", "ab"),
    ("official", "  ab  "),
]


@pytest.mark.parametrize(
    ("name", "prompt"), PROMPTS, ids=[f"{n}-{len(p)}chars" for n, p in PROMPTS]
)
def test_prompt_too_short_or_too_long_is_invalid(name: str, prompt: str) -> None:
    """Prompts outside the dialect's length range (official 3..5000) are refused."""
    with pytest.raises(InvalidRequestError, match="prompt"):
        get_dialect(name).submit(GenerateRequest(prompt))
    with pytest.raises(InvalidRequestError, match="prompt"):
        get_dialect(name).extend(TASK_ID, GenerateRequest(prompt))


@pytest.mark.parametrize(("name", "prompt"), [("official", "abc"), ("gptge", "a")])
@pytest.mark.parametrize("length", ["short", "long"])
def test_prompt_length_bounds_are_inclusive(name: str, prompt: str, length: str) -> None:
    """The shortest and the longest accepted prompts are sent."""
    text = prompt if length == "short" else "x" * 5000
    body = body_of(get_dialect(name).submit(GenerateRequest(text)))
    assert text in body.values()


NOT_IMAGES: list[Any] = [
    "ftp://example.com/a.png",
    "/tmp/a.png",
    "www.example.com/a.png",
    "",
    "data:text/plain;base64,aGVsbG8=",
    "data:image/png,rawbytes",
    "data:image/png;base64,@@@@not-base64@@@@",
    pathlib.Path("/tmp/a.png"),
]


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("field", ["start_image", "end_image"])
@pytest.mark.parametrize("image", NOT_IMAGES, ids=[repr(i)[:30] for i in NOT_IMAGES])
def test_image_that_is_not_a_url_is_invalid(name: str, field: str, image: Any) -> None:
    """An image must be an http(s) URL or a base64 data URI (a Path is read by the client)."""
    with pytest.raises(InvalidRequestError, match=field):
        get_dialect(name).submit(GenerateRequest("cat dance", **{field: image}))


@functools.cache
def data_uri_of(size: int) -> str:
    """A PNG data URI whose decoded payload is `size` bytes."""
    payload = b"\x89PNG\r\n\x1a\n" + b"\0" * (size - 8)
    return "data:image/png;base64," + base64.b64encode(payload).decode("ascii")


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("field", ["start_image", "end_image"])
def test_image_above_10_mb_is_invalid(name: str, field: str) -> None:
    """A data URI of more than 10 MB is refused before uploading."""
    image: dict[str, Any] = {field: data_uri_of(MAX_IMAGE_BYTES + 3)}
    request = GenerateRequest("cat dance", **image)
    with pytest.raises(InvalidRequestError, match="bytes"):
        get_dialect(name).submit(request)


def test_image_just_under_10_mb_is_sent() -> None:
    """A data URI a little under the limit is sent untouched."""
    uri = data_uri_of(MAX_IMAGE_BYTES - 3)
    body = body_of(GptGe().submit(GenerateRequest("cat dance", start_image=uri)))
    assert body["image_url"] == uri


def test_image_of_exactly_10_mb_is_sent() -> None:
    """A data URI of exactly 10 MB (what the client's file reader lets through) is accepted."""
    uri = data_uri_of(MAX_IMAGE_BYTES)
    body = body_of(GptGe().submit(GenerateRequest("cat dance", start_image=uri)))
    assert body["image_url"] == uri


def test_nothing_is_built_when_refused() -> None:
    """The first refusal wins: a lacking option is reported before a bad value."""
    request = GenerateRequest("", aspect_ratio="2:1")  # type: ignore[arg-type]
    with pytest.raises(UnsupportedFeatureError):
        AnyAPI().submit(request)

"""The task store: task states are computed from the clock, so nothing runs in the background."""

from __future__ import annotations

import enum
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._config import IMAGE_KINDS, EmulatorConfig


class Phase(enum.Enum):
    """Where a task is in its life; each dialect has its own word for it."""

    QUEUED = "queued"
    PROCESSING = "processing"
    RENDERING = "rendering"  # quirk unknown_state: a state word no document lists
    WAITING_LINK = "waiting_link"  # quirk completed_without_link: completed, no video yet
    COMPLETED = "completed"
    FAILED = "failed"


RELAY_WORDS = {
    Phase.QUEUED: "pending",
    Phase.PROCESSING: "processing",
    Phase.RENDERING: "rendering",
    Phase.WAITING_LINK: "completed",
    Phase.COMPLETED: "completed",
    Phase.FAILED: "failed",
}
OFFICIAL_WORDS = {
    Phase.QUEUED: "queued",
    Phase.PROCESSING: "dreaming",
    Phase.RENDERING: "rendering",
    Phase.WAITING_LINK: "completed",
    Phase.COMPLETED: "completed",
    Phase.FAILED: "failed",
}

# Frame sizes per aspect ratio; 9:21 is the 656x1552 of the completed example in DIALECTS.md §4.
SIZES = {
    "16:9": (1360, 752),
    "9:16": (752, 1360),
    "1:1": (1024, 1024),
    "4:3": (1168, 880),
    "3:4": (880, 1168),
    "21:9": (1552, 656),
    "9:21": (656, 1552),
}
DEFAULT_ASPECT_RATIO = "16:9"

MARKER_REASON = "prompt rejected by the content filter"
RANDOM_REASONS = (
    "upstream task failed",
    "generation failed: internal error, please retry",
    "the request was rejected by the moderation system",
)


@dataclass(eq=False)
class Task:
    """One generation: its timing, its outcome and the request that made it."""

    id: str
    seq: int
    prompt: str
    created: float
    queue_s: float
    run_s: float
    link_delay: float
    failure_reason: str | None
    kind: str = "video"
    aspect_ratio: str = DEFAULT_ASPECT_RATIO
    model: str | None = None
    request: dict[str, Any] = field(default_factory=dict)
    # notify_hook / callback_url as submitted: kept for callback delivery (a later issue).
    callback_url: str | None = None
    parent_id: str | None = None
    via_http: bool = True
    deleted: bool = False

    @property
    def fails(self) -> bool:
        """Whether the task ends failed."""
        return self.failure_reason is not None

    @property
    def started(self) -> float:
        """Clock time processing starts."""
        return self.created + self.queue_s

    @property
    def ended(self) -> float:
        """Clock time the state becomes completed or failed."""
        return self.started + self.run_s

    @property
    def finished(self) -> float:
        """Clock time the task is terminal for a client: failed, or completed with a link."""
        return self.ended if self.fails else self.ended + self.link_delay

    @property
    def is_image(self) -> bool:
        """Whether the task's output is a still image rather than a video."""
        return self.kind in IMAGE_KINDS

    @property
    def image_format(self) -> str:
        """The still's file extension: the request's `format`, JPEG by default."""
        return "png" if self.request.get("format") == "png" else "jpg"

    @property
    def size(self) -> tuple[int, int]:
        """Width and height of the video."""
        return SIZES.get(self.aspect_ratio, SIZES[DEFAULT_ASPECT_RATIO])

    def phase(self, now: float, *, unknown_state: bool = False) -> Phase:
        """The phase at clock time `now`."""
        if now < self.started:
            return Phase.QUEUED
        if now < self.ended:
            # Quirk unknown_state: the first half of processing carries a word no client knows.
            if unknown_state and now < self.started + self.run_s / 2:
                return Phase.RENDERING
            return Phase.PROCESSING
        if self.fails:
            return Phase.FAILED
        return Phase.WAITING_LINK if now < self.finished else Phase.COMPLETED

    def progress(self, now: float) -> float:
        """Share of processing done, 0..1."""
        if self.run_s <= 0:
            return 1.0 if now >= self.started else 0.0
        return min(1.0, max(0.0, (now - self.started) / self.run_s))


class TaskStore:
    """All tasks of one emulator, with seeded ids, durations and outcomes."""

    def __init__(self, config: EmulatorConfig, clock: Callable[[], float]) -> None:
        """Seed the random streams from the config (ids also from the dialect, so two differ)."""
        self._config = config
        self._clock = clock
        self._rng = random.Random(f"{config.seed}:tasks")
        self._ids = random.Random(f"{config.seed}:{config.dialect}:{config.prefix}:ids")
        self._tasks: dict[str, Task] = {}

    def new_id(self) -> str:
        """A random-looking, seeded UUID4 string."""
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def create(
        self,
        prompt: str,
        *,
        kind: str = "video",
        aspect_ratio: str | None = None,
        model: str | None = None,
        request: dict[str, Any] | None = None,
        callback_url: str | None = None,
        parent_id: str | None = None,
        via_http: bool = True,
        queue_seconds: float | None = None,
        run_seconds: float | None = None,
        outcome: str | None = None,
    ) -> Task:
        """Create a task; durations not given are drawn and scaled, the outcome drawn if None."""
        cfg = self._config
        scale = cfg.time_scale
        drawn_queue = self._rng.uniform(*cfg.queue_seconds) * scale
        drawn_run = self._rng.uniform(*cfg.run_range(kind)) * scale
        unlucky = self._rng.random() < cfg.fail_rate
        reason_pick = self._rng.choice(RANDOM_REASONS)
        if outcome is None:
            if cfg.fail_marker and cfg.fail_marker in prompt:
                reason: str | None = MARKER_REASON
            else:
                reason = reason_pick if unlucky else None
        elif outcome == "failed":
            reason = MARKER_REASON if cfg.fail_marker and cfg.fail_marker in prompt else reason_pick
        elif outcome == "completed":
            reason = None
        else:
            raise ValueError(f"outcome must be 'completed', 'failed' or None, got {outcome!r}")
        link_delay = cfg.link_delay * scale if cfg.has("completed_without_link") else 0.0
        task = Task(
            id=self.new_id(),
            seq=len(self._tasks) + 1,
            prompt=prompt,
            created=self._clock(),
            queue_s=drawn_queue if queue_seconds is None else float(queue_seconds),
            run_s=drawn_run if run_seconds is None else float(run_seconds),
            link_delay=link_delay,
            failure_reason=reason,
            kind=kind,
            aspect_ratio=aspect_ratio or DEFAULT_ASPECT_RATIO,
            model=model,
            request=dict(request or {}),
            callback_url=callback_url,
            parent_id=parent_id,
            via_http=via_http,
        )
        self._tasks[task.id] = task
        return task

    def get(self, task_id: str) -> Task | None:
        """A task that exists and was not deleted, hidden or not."""
        task = self._tasks.get(task_id)
        return None if task is None or task.deleted else task

    def visible(self, task_id: str) -> Task | None:
        """A task as single query and batch see it: quirk early_404 hides it for a while."""
        task = self.get(task_id)
        if task is None or self.hidden(task):
            return None
        return task

    def hidden(self, task: Task) -> bool:
        """Whether quirk early_404 still hides a new task (DIALECTS.md §4: early 404s)."""
        if not self._config.has("early_404"):
            return False
        window = self._config.early_404_seconds * self._config.time_scale
        return self._clock() < task.created + window

    def newest_first(self) -> list[Task]:
        """Live tasks, the newest first (the official list order)."""
        return [t for t in reversed(self._tasks.values()) if not t.deleted]

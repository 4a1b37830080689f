"""The Python blocks of README.md and docs/*.md, and what each one is.

The convention (docs/index.md says it for readers too), an HTML comment on the line before a
```python fence, blank lines allowed between:

- no comment: a **complete program**. The docs test runs it as it stands, in a fresh folder,
  against the emulator (`$LUMA_BASE_URL`, `$LUMA_API_KEY`, `$LUMA_DIALECT` point at it; the
  one host the docs make up, `https://gateway.example`, is mapped to it too).
- `<!-- fragment: tests/docs/fragments/NAME.py -->`: part of a program. NAME.py holds every
  line of the block, in order (each inside one of its lines), and is run like a complete one.
- `<!-- pytest: FILE.py -->`: a file of a small pytest project; the blocks of one page so
  marked are written side by side and run with pytest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ROOT", "Block", "blocks", "missing_lines"]

ROOT = Path(__file__).resolve().parents[2]
_FENCE = re.compile(
    r"^(?P<indent> *)```(?P<lang>[\w-]*)\n(?P<body>.*?)^(?P=indent)```", re.S | re.M
)
_MARK = re.compile(r"<!--\s*(?P<kind>fragment|pytest):\s*(?P<target>\S+)\s*-->\s*$")
_DIALECT = re.compile(r"""dialect\s*=\s*["'](?P<name>\w+)["']""")


@dataclass(frozen=True)
class Block:
    """One ```python block: where it is, its code, and how the docs test treats it."""

    page: str
    line: int
    code: str
    #: "program", "fragment" or "pytest".
    kind: str
    #: The completion file (fragment) or the file name to write (pytest).
    target: str | None = None

    @property
    def name(self) -> str:
        """`page:line`, for test ids and failure messages."""
        return f"{self.page}:{self.line}"

    @property
    def dialect(self) -> str:
        """The dialect the code names first (the emulator plays it), else the default."""
        found = _DIALECT.search(self.code)
        return found["name"] if found else "official"


def pages() -> list[Path]:
    """README.md and every page of the site."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks() -> list[Block]:
    """Every ```python block of every page, classified by the comment before it."""
    found: list[Block] = []
    for page in pages():
        text = page.read_text(encoding="utf-8")
        for fence in _FENCE.finditer(text):
            if fence["lang"] != "python":
                continue
            before = [ln for ln in text[: fence.start()].splitlines() if ln.strip()]
            mark = _MARK.search(before[-1]) if before else None
            body = "\n".join(ln[len(fence["indent"]) :] for ln in fence["body"].splitlines())
            found.append(
                Block(
                    page=str(page.relative_to(ROOT)),
                    line=text[: fence.start()].count("\n") + 1,
                    code=body + "\n",
                    kind=mark["kind"] if mark else "program",
                    target=mark["target"] if mark else None,
                )
            )
    return found


def missing_lines(fragment: str, completion: str) -> list[str]:
    """The fragment's lines that the completion lacks (each must sit in one line, in order)."""
    lines = [ln.strip() for ln in completion.splitlines()]
    missing: list[str] = []
    at = 0
    for wanted in (ln.strip() for ln in fragment.splitlines()):
        if not wanted:
            continue
        for i in range(at, len(lines)):
            if wanted in lines[i]:
                at = i + 1
                break
        else:
            missing.append(wanted)
    return missing

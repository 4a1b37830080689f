"""A fake Luma gateway for tests, benchmarks and demos: every dialect, a task clock, quirks, faults.

Written from the gateway documents only (the gateways' own docs, the official OpenAPI in
reference/); it imports nothing from the client or the dialect adapters, so their mistakes
fail tests instead of being mirrored.
"""

from ._config import FAULT_KINDS, QUIRKS, REALISTIC_RUN_SECONDS, ROUTES, EmulatorConfig, Faults
from ._server import Emulator
from ._stats import Stats

__all__ = [
    "FAULT_KINDS",
    "QUIRKS",
    "REALISTIC_RUN_SECONDS",
    "ROUTES",
    "Emulator",
    "EmulatorConfig",
    "Faults",
    "Stats",
]

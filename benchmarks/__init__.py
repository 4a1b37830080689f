"""Benchmarks: luma_async side by side with its alternatives, against the emulator."""

"""Benchmarks: luma_async side by side with its alternatives, against the emulator.

`python -m benchmarks --out docs/benchmarks.md` runs every section and writes the page and
its chart (`docs/benchmarks.png`); `--quick` runs tiny sizes to prove the suite still works;
`--only NAME` runs one section. Needs the `bench` extra (the official SDK, matplotlib).
"""

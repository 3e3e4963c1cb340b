"""Benchmarks: scripts that print figures; results are kept in RESULTS.md."""

"""Benchmarks of the platform (`make bench`, never part of `make test`): see docs/performance.md."""

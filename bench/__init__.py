"""The benchmark harness: `npm run bench` (README.md, section Performance; commands in
bench/invocations.py)."""

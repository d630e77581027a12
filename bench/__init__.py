"""The benchmark harness: `npm run bench` (see bench/README.md)."""

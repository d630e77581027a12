"""Micro-batching (app/batching.py): concurrent requests share model calls and INSERTs, each gets
its own stored row, and the probabilities equal the model's own for the text alone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

from app.batching import PredictionBatcher, StoredResult
from app.repository import DatabaseBusy, SqliteRepository
from ml.model import Prediction, TextClassifier


class CountingClassifier:
    """The real classifier, counting the calls and the texts per call."""

    def __init__(self, inner: TextClassifier) -> None:
        self.inner = inner
        self.calls: list[int] = []

    @property
    def classes(self) -> tuple[str, ...]:
        return self.inner.classes

    @property
    def version(self) -> str:
        return self.inner.version

    @property
    def metadata(self) -> dict[str, object]:
        return self.inner.metadata

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        self.calls.append(len(texts))
        return self.inner.predict(texts)


TEXTS = ["The senate passed the bill.", "The striker scored twice.", "A faster chip shipped."]


def test_concurrent_requests_share_batches_and_get_their_own_rows(
    classifier: TextClassifier, tmp_path: Path
) -> None:
    counting = CountingClassifier(classifier)
    repository = SqliteRepository(tmp_path / "p.sqlite3")
    texts = [f"{TEXTS[i % 3]} ({i})" for i in range(60)]

    async def run() -> list[StoredResult]:
        batcher = PredictionBatcher(counting, repository, max_size=16)
        try:
            return list(await asyncio.gather(*(batcher.predict(t) for t in texts)))
        finally:
            await batcher.close()

    results = asyncio.run(run())
    assert sum(counting.calls) == 60
    assert len(counting.calls) < 60 and max(counting.calls) <= 16  # batched, bounded
    ids = [r.id for r in results]
    assert len(set(ids)) == 60 and all(r.stored for r in results)
    for text, result in zip(texts, results, strict=True):
        assert result.id is not None
        row = repository.get(result.id)
        assert row is not None and row.text == text  # each answer is its own text's row
        alone = classifier.predict([text])[0]
        assert result.prediction.probabilities == alone.probabilities
    repository.close()


class BusyRepository(SqliteRepository):
    """Every insert waits `wait_s`, then finds the database busy (as a pool or lock timeout)."""

    def __init__(self, path: Path, wait_s: float) -> None:
        super().__init__(path)
        self.wait_s = wait_s
        self.inserts = 0

    def _insert_rows(self, rows: list[tuple[object, ...]]) -> list[object]:
        self.inserts += 1
        time.sleep(self.wait_s)
        raise self.busy(f"no database connection free within {self.wait_s:g} s")


def test_requests_queued_behind_a_busy_batch_get_its_503_without_waiting_again(
    classifier: TextClassifier, tmp_path: Path
) -> None:
    repository = BusyRepository(tmp_path / "p.sqlite3", wait_s=0.5)

    async def run() -> tuple[list[object], float]:
        batcher = PredictionBatcher(classifier, repository, max_size=4, max_in_flight=1)
        started = time.monotonic()
        try:
            first = asyncio.ensure_future(batcher.predict(TEXTS[0]))
            await asyncio.sleep(0.1)  # the first batch is waiting; these queue behind it
            rest = [asyncio.ensure_future(batcher.predict(t)) for t in TEXTS * 4]
            outcomes = await asyncio.gather(first, *rest, return_exceptions=True)
            return list(outcomes), time.monotonic() - started
        finally:
            await batcher.close()

    outcomes, elapsed = asyncio.run(run())
    assert all(isinstance(o, DatabaseBusy) for o in outcomes), outcomes
    assert repository.inserts == 1  # the 12 queued requests never waited a second time
    assert elapsed < 1.4  # waiting again would take 4 x 0.5 s
    repository.close()

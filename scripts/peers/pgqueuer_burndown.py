"""Burn-down rate of pgqueuer (issue 16's queue peer): enqueue N no-op jobs, then time W workers emptying the queue.

Run by `scripts/bench.sh peers` in its own virtualenv, against a fresh database it creates and drops:

    python pgqueuer_burndown.py --dsn postgresql://USER@/DB?host=SOCKDIR&port=PORT --jobs 20000 --workers 8 --batch 10

Each worker is one QueueManager on its own asyncpg connection, in one process (as pgqueuer's own benchmark
tool runs them), draining with `mode=drain`. The clock runs from the start of the workers until every
worker has returned, i.e. until the last acknowledgement is committed: the same end point as ReproGrid's
benchmark, whose run ends when the last result is accepted. Only pgqueuer's public API is used.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import timedelta

import asyncpg
from pgqueuer import AsyncpgDriver, Job, Queries, QueueManager
from pgqueuer.types import QueueExecutionMode

ENTRYPOINT = "noop"


async def committed_transactions(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetchval(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        )
    finally:
        await connection.close()


async def prepare(dsn: str, jobs: int) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        queries = Queries(AsyncpgDriver(connection))
        await queries.install()
        chunk = 1000
        for start in range(0, jobs, chunk):
            count = min(chunk, jobs - start)
            await queries.enqueue([ENTRYPOINT] * count, [None] * count, [0] * count)
    finally:
        await connection.close()


async def worker(dsn: str, batch: int, processed: list[float]) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        manager = QueueManager(Queries(AsyncpgDriver(connection)))

        @manager.entrypoint(ENTRYPOINT)
        async def noop(job: Job) -> None:
            processed[0] += 1
            processed[1] = time.perf_counter()

        await manager.run(
            batch_size=batch, mode=QueueExecutionMode.drain, dequeue_timeout=timedelta(seconds=1)
        )
    finally:
        await connection.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", required=True, help="fresh database to install pgqueuer in")
    parser.add_argument("--jobs", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--batch", type=int, default=10, help="QueueManager.run(batch_size=…)")
    args = parser.parse_args()

    await prepare(args.dsn, args.jobs)
    # Let the set-up backend's statistics reach pg_stat_database before the first reading.
    await asyncio.sleep(1.5)
    commits_before = await committed_transactions(args.dsn)
    processed = [0, 0.0]  # jobs run, instant of the last one
    start = time.perf_counter()
    await asyncio.gather(*(worker(args.dsn, args.batch, processed) for _ in range(args.workers)))
    elapsed = time.perf_counter() - start
    await asyncio.sleep(1.5)
    commits = await committed_transactions(args.dsn) - commits_before
    if processed[0] != args.jobs:
        raise SystemExit(f"error: {processed[0]} of {args.jobs} jobs ran")
    print(f"== pgqueuer burn-down: {args.workers} workers, {args.jobs} jobs, batch {args.batch}")
    print(f"jobs/s:             {args.jobs / elapsed:.0f} ({args.jobs} jobs in {elapsed:.2f} s)")
    print(f"last job ran at:    {processed[1] - start:.2f} s (acknowledgements and drain check end at {elapsed:.2f} s)")
    print(f"commits/job:        {commits / args.jobs:.3f} ({commits} commits)")


if __name__ == "__main__":
    try:
        import uvloop  # pgqueuer depends on it, and its CLI runs on it: the peer's best case

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())

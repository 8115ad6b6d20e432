"""A bounded pool of worker processes for work on untrusted bytes (parsing), off the event loop.

A file can be made to take minutes or gigabytes to parse (a spreadsheet declaring a million
rows, a PDF whose objects refer to each other). Run on the event loop, it would stall every
request of the service; run in a thread, it could not be stopped. So each call runs in a worker
process whose address space is capped (``RLIMIT_AS``), under a time limit; a worker that exceeds
either is killed and replaced, and the caller gets ``LimitExceeded`` naming the limit.

The functions run must be importable, take and return picklable values, and touch nothing but
their arguments: the parsers of ``ingest.parsers`` are.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import multiprocessing
import multiprocessing.forkserver
import os
import resource
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from typing import Any, Literal, TypeVar

import structlog

log = structlog.get_logger()
T = TypeVar("T")
WARM_UP_SECONDS = 120.0


@dataclass(frozen=True)
class WorkerLimits:
    workers: int = 2
    memory_bytes: int = 1024 * 1024 * 1024  # address space of each worker (RLIMIT_AS)
    seconds: float = 30.0  # per call


class LimitExceeded(Exception):
    """A call went over the time or memory limit; its worker was killed and replaced."""

    def __init__(self, limit: Literal["time", "memory"], limits: WorkerLimits) -> None:
        self.limit = limit
        if limit == "time":
            what = f"the time limit of {limits.seconds:g} s"
        else:
            what = f"the memory limit of {limits.memory_bytes // 2**20} MiB"
        super().__init__(f"parsing went over {what}")


class WorkerFailed(Exception):
    """The function raised: ``kind`` is the exception's type name, the message its text."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        self.message = message
        super().__init__(f"{kind}: {message}" if message else kind)


def _serve(conn: Connection, memory_bytes: int) -> None:
    """A worker's life: calls in, results out, until the pipe closes or memory runs out."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    while True:
        try:
            fn, args, kwargs = conn.recv()
        except (EOFError, OSError):
            return
        except Exception as error:  # a call that cannot be unpickled here
            conn.send(("error", type(error).__name__, str(error)[:2000]))
            continue
        try:
            reply: tuple[Any, ...] = ("ok", fn(*args, **kwargs))
        except MemoryError:
            conn.send(("memory",))
            return  # its heap is not to be trusted again: replaced
        except RecursionError:
            reply = ("error", "RecursionError", "nested too deeply")
        except Exception as error:  # any fault of the input: the caller names it
            reply = ("error", type(error).__name__, str(error)[:2000])
        try:
            conn.send(reply)
        except MemoryError:
            conn.send(("memory",))
            return
        except Exception as error:  # a result that cannot be pickled: a bug, told as such
            conn.send(("error", type(error).__name__, str(error)[:2000]))


# What a worker parsing hostile bytes must not hold: a parser exploited would read them from its
# environment (the database's password, Kafka's, S3's, the IdP client's, signing keys).
SECRET_WORDS = ("PASSWORD", "SECRET", "_KEY", "_KEYS", "TOKEN")


@contextlib.contextmanager
def _without_secrets() -> Iterator[None]:
    """The environment without its secrets while the fork server starts (it and every worker
    forked from it keep the environment it started with); put back after."""
    hidden = {k: v for k, v in os.environ.items() if any(w in k.upper() for w in SECRET_WORDS)}
    for name in hidden:
        del os.environ[name]
    try:
        yield
    finally:
        os.environ.update(hidden)


def _import(module: str) -> None:
    importlib.import_module(module)


class _Worker:
    def __init__(self, ctx: ForkServerContext, memory_bytes: int) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, memory_bytes), daemon=True)
        self.process.start()
        child.close()

    def call(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], seconds: float
    ) -> Any:
        """Blocking: send the call, wait for its reply; TimeoutError, EOFError if it died."""
        self.conn.send((fn, args, kwargs))
        if not self.conn.poll(seconds):
            raise TimeoutError
        return self.conn.recv()

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()


class WorkerPool:
    """``limits.workers`` processes, started from a fork server that has ``preload`` imported
    (so that a replacement starts in milliseconds, without a copy of this process's state)."""

    def __init__(self, limits: WorkerLimits, preload: Sequence[str] = ()) -> None:
        self.limits = limits
        self._preload = list(preload)
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(self._preload)
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._all: list[_Worker] = []
        self._threads = ThreadPoolExecutor(limits.workers, thread_name_prefix="worker-pool")
        self._started = False

    async def start(self) -> None:
        """Start the fork server without the process's secrets, then the workers (forked from
        it), off the event loop."""
        if self._started:
            return
        self._started = True
        loop = asyncio.get_running_loop()
        with _without_secrets():
            await loop.run_in_executor(self._threads, multiprocessing.forkserver.ensure_running)
        for _ in range(self.limits.workers):
            self._add(await loop.run_in_executor(self._threads, self._spawn))

    def _spawn(self) -> _Worker:
        """A worker with the modules it runs imported: the time limit is for the work alone
        (the fork server has them imported already, unless another pool started it first)."""
        worker = _Worker(self._ctx, self.limits.memory_bytes)
        for module in self._preload:
            reply = worker.call(_import, (module,), {}, WARM_UP_SECONDS)
            if reply[0] != "ok":
                worker.kill()
                raise RuntimeError(f"a parsing worker cannot import {module}: {reply}")
        return worker

    def _add(self, worker: _Worker) -> None:
        self._all.append(worker)
        self._idle.put_nowait(worker)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(…)`` in a worker. LimitExceeded past a limit, WorkerFailed if it raised."""
        await self.start()
        worker = await self._idle.get()
        loop = asyncio.get_running_loop()
        try:
            reply = await loop.run_in_executor(
                self._threads, worker.call, fn, args, kwargs, self.limits.seconds
            )
        except TimeoutError:
            await self._replace(worker, "time")
            raise LimitExceeded("time", self.limits) from None
        except (EOFError, OSError):  # killed by the kernel, or crashed in C
            await self._replace(worker, "memory")
            raise LimitExceeded("memory", self.limits) from None
        except BaseException:  # cancelled mid-call: its reply would confuse the next caller
            await asyncio.shield(self._replace(worker, "cancelled"))
            raise
        if reply[0] == "memory":
            await self._replace(worker, "memory")
            raise LimitExceeded("memory", self.limits)
        self._idle.put_nowait(worker)
        if reply[0] == "error":
            raise WorkerFailed(reply[1], reply[2])
        result: T = reply[1]
        return result

    async def _replace(self, worker: _Worker, why: str) -> None:
        log.warning("worker replaced", reason=why, pid=worker.process.pid)
        self._all.remove(worker)
        # Not on the pool's own threads: a cancelled call may still hold one until it times out.
        await asyncio.to_thread(worker.kill)
        self._add(await asyncio.to_thread(self._spawn))

    async def close(self) -> None:
        for worker in self._all:
            worker.kill()
        self._all.clear()
        self._threads.shutdown(wait=False, cancel_futures=True)

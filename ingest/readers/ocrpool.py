"""Reading, the second stage: a scan's pages read in parallel, one page per worker process.

OCR is CPU work in tesseract processes (``OMP_THREAD_LIMIT=1``: its own threading was about
5x slower here), so the pages of a document go to a pool of worker processes, one page a
worker at a time; the pool is started on first use and kept for the run's later scans.
Pages are decoded here one at a time (``ingest.readers.pages``, each within
``ORDERMILL_MAX_PAGE_PIXELS``) and at most two per worker are in flight, so memory stays
bounded whatever the page count; each worker's address space is capped too
(``ORDERMILL_OCR_MEMORY_MB``), and each tesseract call has a time limit
(``ORDERMILL_OCR_SECONDS``), so no page hangs a run. A page that fails takes its document
with it, with the reason (``reader-crashed``, ``read-timeout``): a document is never read
with a page missing. A one-page scan (most faxes) is read here, without the pool.

A PDF page with a text layer is not OCR'd and is placed here, without the pool.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import resource
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from ingest.errors import InputError
from ingest.readers.limits import Limit
from ingest.readers.ocrpage import PageTable, read_page, text_layer_page
from ingest.readers.pages import Page
from ingest.readers.tesseract import OCR_SECONDS

WORKERS = Limit("ORDERMILL_OCR_WORKERS", len(os.sched_getaffinity(0)),
                "worker processes reading a scan's pages", "processes")
MEMORY_MIB = Limit("ORDERMILL_OCR_MEMORY_MB", 2048,
                   "memory a worker reading one page of a scan may take", "MiB")
IN_FLIGHT = 2  # pages sent ahead per worker

# What a page gives: its table (None: no table on it), or a failure (code, reason).
Outcome = PageTable | None | tuple[str, str]

_pool: ProcessPoolExecutor | None = None
_pool_size = 0


def read_pages(name: str, pages: Iterable[Page]) -> Iterator[tuple[Page, PageTable | None]]:
    """Each page with what was read on it, in page order. Raises InputError when a page
    cannot be read (``reader-crashed``, ``read-timeout``, ``ocr-unavailable``)."""
    iterator = iter(pages)
    first = next(iterator, None)
    if first is None:
        return
    second = next(iterator, None)
    if second is None or WORKERS.value() <= 1:
        for page in (first, *(() if second is None else (second,)), *iterator):
            yield page, _settled(name, page, read_one(page))
        return
    yield from _pooled(name, [first, second], iterator)


def _pooled(name: str, head: list[Page], rest: Iterator[Page]
            ) -> Iterator[tuple[Page, PageTable | None]]:
    pool = _the_pool()
    waiting: deque[tuple[Page, Future[Outcome] | Outcome]] = deque()
    limit = IN_FLIGHT * _pool_size

    def send(page: Page) -> None:
        if page.words is not None:  # a text layer: no OCR, placed here at once
            waiting.append((page, read_one(page)))
        else:
            waiting.append((page, pool.submit(read_one, _lean(page))))

    try:
        for page in head:
            send(page)
        for page in rest:
            while len(waiting) >= limit:
                yield _take(name, waiting)
            send(page)
        while waiting:
            yield _take(name, waiting)
    except BrokenProcessPool:
        _discard_pool()
        raise InputError(name, "a worker reading its pages died (most often it needed more "
                         f"memory than {MEMORY_MIB.env}={MEMORY_MIB.value()} allows)",
                         code="reader-crashed") from None
    finally:
        for _, pending in waiting:
            if isinstance(pending, Future):
                pending.cancel()


def _take(name: str, waiting: deque[tuple[Page, Future[Outcome] | Outcome]]
          ) -> tuple[Page, PageTable | None]:
    page, pending = waiting.popleft()
    outcome = pending.result() if isinstance(pending, Future) else pending
    return page, _settled(name, page, outcome)


def _lean(page: Page) -> Page:
    """The page as sent to a worker: its notes stay here."""
    return Page(page.number, page.image, page.dpi, page.words)


def _settled(name: str, page: Page, outcome: Outcome) -> PageTable | None:
    if isinstance(outcome, tuple):
        code, reason = outcome
        raise InputError(name, f"page {page.number}: {reason}", code=code)
    return outcome


def read_one(page: Page) -> Outcome:
    """One page read (in a worker or here); a failure as (code, reason), which crosses
    back from a worker as plain data."""
    try:
        if page.words is not None:
            return text_layer_page(page)
        return read_page(page)
    except InputError as exc:
        return exc.code or "reader-failed", exc.reason
    except MemoryError:
        return "reader-crashed", (f"reading it needed more memory than "
                                  f"{MEMORY_MIB.env}={MEMORY_MIB.value()} allows")
    except RuntimeError as exc:
        if "timeout" in str(exc).lower():
            return "read-timeout", ("tesseract did not finish within the time allowed "
                                    f"({OCR_SECONDS.env}={OCR_SECONDS.value()})")
        raise


def _the_pool() -> ProcessPoolExecutor:
    global _pool, _pool_size
    if _pool is None:
        _pool_size = max(1, WORKERS.value())
        # Workers are started fresh (not forked from a run that holds threads and locks).
        _pool = ProcessPoolExecutor(max_workers=_pool_size,
                                    mp_context=multiprocessing.get_context("spawn"),
                                    initializer=_worker_start,
                                    initargs=(MEMORY_MIB.value(),))
    return _pool


def _discard_pool() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


def _worker_start(memory_mib: int) -> None:
    os.environ["OMP_THREAD_LIMIT"] = "1"
    limit = memory_mib << 20
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


atexit.register(_discard_pool)

"""A service whose background loop dies shortly after start, for the supervisor's tests.

It serves the platform's operations endpoints (`shared.web.operations_router`) on the port in
`BILAN_TEST_PORT`, with one loop that raises after half a second, as a consumer would after a
defect.
"""

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

import uvicorn
from fastapi import FastAPI

from shared.web import RUNNING, operations_router

states = {"consumer": RUNNING}


async def _doomed() -> None:
    await asyncio.sleep(0.5)
    states["consumer"] = "died: KeyError"


@contextlib.asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    task = asyncio.create_task(_doomed())
    yield
    task.cancel()


async def _database() -> None:
    return None


app = FastAPI(lifespan=lifespan)
app.include_router(operations_router({"database": _database}, loops=lambda: states))
uvicorn.run(app, host="127.0.0.1", port=int(os.environ["BILAN_TEST_PORT"]), log_level="warning")

"""Runs a service's FastAPI app under uvicorn with the platform's JSON logging."""

from __future__ import annotations

import gc

import uvicorn
from fastapi import FastAPI

from shared.logging import configure_logging
from shared.settings import PlatformSettings

GC_YOUNG_THRESHOLD = 20_000


def serve(app: FastAPI, settings: PlatformSettings) -> None:
    """Serve until SIGTERM/SIGINT; the app's lifespan starts and stops the runtime."""
    configure_logging(settings.service_name, settings.log_level)
    # A request allocates thousands of short-lived objects: with the default threshold (700)
    # the cyclic collector runs every few requests, and its older generations walk every
    # long-lived object (caches, pools, imported modules) in pauses that show in the latency
    # tail. Collect the young generation less often, and keep what exists at start-up (the
    # imported code) out of every later collection.
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)
    gc.freeze()
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,  # keep the JSON handler configure_logging installed
        access_log=False,  # requests are counted in /metrics; their URLs may hold ids only
        lifespan="on",
        proxy_headers=False,  # the app decides whom to believe (shared.web.forwarded)
    )

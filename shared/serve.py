"""Runs a service's FastAPI app under uvicorn with the platform's JSON logging."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from shared.logging import configure_logging
from shared.settings import ServiceSettings


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Serve until SIGTERM/SIGINT; the app's lifespan starts and stops the runtime."""
    configure_logging(settings.service_name, settings.log_level)
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,  # keep the JSON handler configure_logging installed
        access_log=False,  # requests are counted in /metrics; their URLs may hold ids only
        lifespan="on",
    )

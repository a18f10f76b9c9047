# One image for every Bilan process; the command picks the service
# (`python -m services.dossier`, `python -m deploy.init`, …).
# PYTHON_BASE: the official image by default; `bilan containers test` passes a Python 3.11
# base of its own, built from Debian packages, where no image registry can be reached.
ARG PYTHON_BASE=python:3.11-slim
FROM ${PYTHON_BASE} AS build
# The base's Python 3.11, never one uv would download.
ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1 UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY shared ./shared
COPY services ./services
COPY deploy ./deploy
RUN uv sync --frozen --no-dev

FROM ${PYTHON_BASE}
RUN useradd --system --uid 10001 --home /app bilan
WORKDIR /app
COPY --from=build /app /app
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1
USER bilan
# Services listen on 0.0.0.0 inside the container; the compose file and manifests set it.
EXPOSE 8000 8001 8002 8003 8004
CMD ["python", "-m", "deploy.init"]

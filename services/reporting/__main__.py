"""`python -m services.reporting`: the worker and the API on 127.0.0.1:8004."""

from shared.serve import serve

from .bootstrap import create_app
from .settings import Settings

settings = Settings()
serve(create_app(settings), settings)

"""`python -m services.scheduling`: serve the scheduling API."""

from services.scheduling.bootstrap import create_app
from services.scheduling.settings import Settings
from shared.serve import serve

if __name__ == "__main__":
    settings = Settings()
    serve(create_app(settings), settings)

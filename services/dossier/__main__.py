"""`python -m services.dossier`: serve the dossier service."""

from services.dossier.bootstrap import create_app
from services.dossier.settings import Settings
from shared.serve import serve

if __name__ == "__main__":
    settings = Settings()
    serve(create_app(settings), settings)

"""`python -m services.console`: serve the web console."""

from services.console.bootstrap import create_app
from services.console.settings import ConsoleSettings
from shared.serve import serve

if __name__ == "__main__":
    settings = ConsoleSettings()
    serve(create_app(settings), settings)

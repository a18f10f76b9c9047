"""`python -m services.survey`: serve the survey service."""

from services.survey.bootstrap import create_app
from services.survey.settings import SurveySettings
from shared.serve import serve

if __name__ == "__main__":
    settings = SurveySettings()
    serve(create_app(settings), settings)

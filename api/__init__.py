"""HTTP surface: the FastAPI app, one router per actor, auth dependencies and problem+json errors."""

"""The HTTP API as Chalice blueprints, plus the middleware every route passes through."""

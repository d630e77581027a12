"""Settings, middleware and error handling."""

"""calendly_http."""

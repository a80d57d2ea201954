"""calendly_sandbox."""

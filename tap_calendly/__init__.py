"""tap_calendly."""

"""target_calendly."""

"""JSON schemas of the streams, derived from Calendly's OpenAPI document by
scripts/derive_tap_schemas.py (do not edit by hand)."""

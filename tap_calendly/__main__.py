from tap_calendly.tap import TapCalendly

TapCalendly.cli()

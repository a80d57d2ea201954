"""calendly_webhooks: the Calendly webhook receiver (`calendly-webhooks`) and its inbox format.

    calendly-webhooks --inbox inbox.sqlite --signing-key-file keys.txt [--host 127.0.0.1] [--port 0]

prints its base URL as the first stdout line; Calendly (or the sandbox) POSTs deliveries to
{base}/webhooks; GET {base}/health answers {"status": "ok", ...}. Each verified delivery is
appended to the SQLite inbox (calendly_webhooks.inbox: the one module that defines its format,
imported by the receiver and by tap-calendly's webhook_events stream). The receiver imports no
tap or target code.
"""

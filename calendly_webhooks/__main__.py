import sys

from calendly_webhooks.cli import main

sys.exit(main())

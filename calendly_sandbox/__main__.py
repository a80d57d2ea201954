import sys

from calendly_sandbox.cli import main

sys.exit(main())

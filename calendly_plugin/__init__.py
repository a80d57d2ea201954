"""The singer-sdk glue tap-calendly and target-calendly share.

The settings both declare (`SHARED_SETTINGS`), their common command-line behaviour
(`CalendlyPlugin`), and `sdk_compat`, the one module that touches singer-sdk internals. HTTP
policy is calendly_http's; nothing there depends on the SDK.
"""

from calendly_plugin.plugin import CalendlyPlugin
from calendly_plugin.settings import SHARED_SETTINGS

__all__ = ["SHARED_SETTINGS", "CalendlyPlugin"]

"""Plugins: observers of case events and delivery channels for notifications (pluggy).

A plugin is any object or module with functions marked `@hookimpl` whose names match the
specifications in `flowengine.plugins.hookspecs` (pytest's model: documented empty hook
functions, one function that builds the manager, built-ins loaded exactly like third-party
plugins through the `flowengine.plugins` entry-point group). See docs/plugins.md.

This module stays import-light (markers and data types only) so a plugin can import it
without pulling in the engine.
"""

from __future__ import annotations

import pluggy

from .notification import DeliveryError, Notification, Recipient

PROJECT = "flowengine"
ENTRY_POINT_GROUP = "flowengine.plugins"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = [
    "DeliveryError", "ENTRY_POINT_GROUP", "Notification", "PROJECT", "Recipient",
    "hookimpl", "hookspec",
]

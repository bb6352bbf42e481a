"""Process definitions: YAML in, a frozen `ProcessDef` out, or every problem at once.

`loader.load_process` parses (records/marked_yaml.py keeps line and column marks), checks
the JSON Schema (`schema`), builds the frozen model (`model`) and runs the semantic checks
(`checks/`, one module per family); `folder` loads a folder of process files, `calendars`
the calendar files a definition lists, `graph` holds the walks checks and diagrams share,
and `pinned` checks a stored definition text against its digest. Nothing is imported here,
so `import flowengine.definition.model` stays cheap.
"""

__all__ = ["calendars", "checks", "folder", "graph", "loader", "model", "pinned", "schema"]

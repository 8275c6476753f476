"""One module per CLI command: top (and demo), record, report and view."""

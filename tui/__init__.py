"""Everything a person sees: the Textual app, its widgets and styles, and the CLI."""

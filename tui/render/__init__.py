"""Pure render helpers (layout, colours, sparklines, safe text, the report table); no widgets."""

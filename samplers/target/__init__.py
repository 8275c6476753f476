"""The target process: its facts for metadata, attach permissions and system readings."""

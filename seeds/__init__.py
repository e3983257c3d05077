"""The coverage that ships (the article files here), in the wheel as `bot.seeds`.

This folder stays top-level in the repo; pyproject.toml maps it to that package, and
`newsdesk ingest` / `make run` read it with importlib.resources. Ingest skips this file.
"""

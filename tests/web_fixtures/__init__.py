"""Pages, feeds and a local HTTP server for the live-coverage tests."""

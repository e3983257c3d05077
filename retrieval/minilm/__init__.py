"""Package data: the all-MiniLM-L6-v2 WordPiece vocabulary (see README.md here)."""

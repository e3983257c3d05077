"""Prompt templates (the .txt files here), shipped in the wheel as `retrieval.prompts`.

This folder stays top-level in the repo; pyproject.toml maps it to that package, and
retrieval/llm/prompts.py reads the templates with importlib.resources.
"""

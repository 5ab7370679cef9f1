"""Fixtures for tests: replicas of the hub's caches (models, datasets) laid out as huggingface_hub leaves them."""

import pytest


@pytest.fixture(autouse=True)
def _collab_media_and_passwords(media_and_fast_passwords):
    """Every collab test: a temporary media root (evidence, papers, sealed PDFs) and cheap password hashing."""
    return media_and_fast_passwords

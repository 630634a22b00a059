"""Background jobs of reviews (issue 4); imported by cases/tasks.py so the Huey consumer registers them."""

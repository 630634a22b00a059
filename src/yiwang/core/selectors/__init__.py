"""Core selectors (every read a user can reach; scoping lives here), one module per resource."""

"""Core services (every write), one module per resource: org, people, identity, calendar."""

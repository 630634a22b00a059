"""Admin for 一网协同's configuration: the indicator library, performance plans, the form register, role
clearances; one module per part."""

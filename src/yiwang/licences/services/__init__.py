"""Licence services: every write to seals, licence types, licences, grants, disputes and imports.

core.py holds the seal keys, identifiers, issuing (sign with the seal) and status changes; the other modules build
on it (issuing.py: from concluded cases; grants.py: 授权用证 and 免证办; disputes.py; imports.py: CSV batches).
"""

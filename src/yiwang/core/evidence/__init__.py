"""The evidence log (存证): an append-only SM3 Merkle log after RFC 9162, with SM2-signed tree heads."""

"""Reader of the 离岸库 (filled in by the return-flow part of issue 14)."""

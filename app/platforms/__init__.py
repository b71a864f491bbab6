"""Partner platforms: their registry, and verification of a worker's platform work."""

"""Coverage periods and the coverage views every later feature reads."""

"""Circuit breakers for partners we call, their state in the database so that every API and job
worker process sees the same one (ADR 0009)."""

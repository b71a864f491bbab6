"""API clients: who may call the service, with which role and for which organisation."""

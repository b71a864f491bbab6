"""Members: who is covered. Identity is encrypted at rest and shown masked."""

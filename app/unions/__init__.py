"""What a district union calls about its own members: who they are (masked) and their cover."""

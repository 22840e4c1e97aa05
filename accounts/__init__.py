"""Users, roles and the access helpers every other app reuses."""

"""People and what they may do: users, teams, roles, sessions and API tokens."""

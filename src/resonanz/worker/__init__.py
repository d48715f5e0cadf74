"""Background work: jobs kept in the database, claimed with leases, a sweeper and a scheduler tick."""

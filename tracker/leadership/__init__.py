"""Leadership: which process may run the scheduler's jobs, as a lease row in the database."""

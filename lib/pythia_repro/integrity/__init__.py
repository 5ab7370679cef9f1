"""What makes results trustworthy on any machine: atomic writes and locks, content hashes, caches that check
themselves, portable numerics, scorer versions, worker processes that die with their parent, the environment
against the lock. Imports only the configuration (`settings`, `paths`, `errors`)."""

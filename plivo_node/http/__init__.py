"""HTTP: the client (one session, one error mapping), its retry policy and rate limiter."""

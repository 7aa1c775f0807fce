"""One run: pipeline loading and checks, the scheduler, item I/O, the journal and progress."""

"""What is kept on disk: saved runs (typed records, one migration), damage checks, job
checkpoints."""

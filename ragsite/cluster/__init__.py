"""The scale-out topology: Debian's PostgreSQL + pgvector and Redis, an S3 server, nginx in
front of several Daphne processes, several Celery workers and one beat.

`make run-cluster` runs it on one machine (`python -m ragsite.cluster`); tests/cluster/ starts
it, breaks pieces of it and checks that the site copes. The same settings (DATABASE_URL,
REDIS_URL, RAGSITE_S3_*) point the processes at managed services in production.
"""

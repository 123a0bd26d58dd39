"""Entry points: the `loyalty` command line (infra, worker, demo)."""

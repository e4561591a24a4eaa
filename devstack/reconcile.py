"""Compatibility names for tools not yet moved to cli.reconcile (the one reconcile command); to be removed."""
import sys

from chalicelib.services.reconcile import Comparison
from cli.reconcile import main


def counts(runtime_, poll_id: str):
    return runtime_.reconciler.compare(poll_id).counts


def report(poll_id: str, found) -> str:
    return Comparison(poll_id, found).table()


if __name__ == "__main__":
    sys.exit(main())

"""Read by mypy (`make test`), never run: each in-memory fake is the port it stands in for, and the index whose
storage can be damaged can be made anew. The adapters meet their ports in the composition root
(chalicelib/runtime.py), whose pieces are declared as the ports the services take."""
from chalicelib.adapters.sqlite_index import SqliteIndex
from chalicelib.services import ports
from tests.fakes import FakeDirectory, FakeLedger, FakePollStore, FakeRollStore


def poll_store() -> ports.PollStore:
    return FakePollStore()


def ballot_box() -> ports.BallotBox:
    return FakeLedger()  # the vote path's part of the ledger: the unit tests never reconcile


def roll_store() -> ports.RollStore:
    return FakeRollStore(FakeLedger())


def directory() -> ports.AccountDirectory:
    return FakeDirectory()


def recreatable(index: SqliteIndex) -> ports.RecreatableIndex:
    return index

"""Operators' use cases for a roll poll's roll: add voters (inviting those without an account), list, remove."""
from typing import Callable, Dict, List, Optional

from ..domain.ballots import bucket_of
from ..domain.errors import Conflict, Invalid
from ..domain.polls import Poll
from ..domain.roll import (
    MAX_ENTRY,
    ROLL_PAGE,
    Account,
    Enrolment,
    RemovalReport,
    RollReport,
    check_roll_can_change,
    check_roll_can_shrink,
    first_of_each,
    is_email,
    roll_request,
)
from .catalog import PollCatalog
from .ports import AccountDirectory, RollStore

# Each entry is a user pool lookup (~30 ms on AWS): 1,000 one after another would take about as long as API
# Gateway waits (29 s, the API function's timeout too), so they go this many at a time, which Cognito's
# AdminGetUser quota (120/s, shared with the operator checks) still about allows; the SDK resends a throttled one.
LOOKUPS_AT_ONCE = 4


class RollService:
    def __init__(self, catalog: PollCatalog, store: RollStore, directory: AccountDirectory,
                 clock: Callable[[], str], pseudonym: Callable[[str], str], clock_skew_s: float):
        self._catalog = catalog
        self._clock_skew_s = clock_skew_s
        self._store = store
        self._directory = directory
        self._clock = clock
        self._pseudonym = pseudonym

    def add(self, poll_id: str, body: dict) -> RollReport:
        poll = self._catalog.existing(poll_id)
        sent, invite = roll_request(body)
        check_roll_can_change(poll, self._clock())
        names = list(dict.fromkeys(sent))  # an entry sent twice counts once, the second time as "already"
        report = RollReport()
        found: List[tuple] = []
        for name, account in zip(names, self._lookup(self._directory.account, names), strict=True):
            if account is None and invite and is_email(name):
                account = self._directory.invite(name)
                report.invited += 1
            if account is None:
                report.unknown.append(name)
            else:
                found.append((name, account))
        distinct, repeats = first_of_each(found)
        already = self._store.enrol(poll.poll_id, [self._enrolment(poll, account) for _, account in distinct])
        report.already = len(sent) - len(names) + repeats + len(already)
        report.added = len(distinct) - len(already)
        return report

    def remove(self, poll_id: str, body: dict) -> RemovalReport:
        poll = self._catalog.current(poll_id)  # the stored poll: an open moves opens_at to that moment
        sent, _ = roll_request(body, invite_allowed=False)
        check_roll_can_shrink(poll, self._clock(), self._clock_skew_s)
        names = list(dict.fromkeys(sent))
        report = RemovalReport()
        for name, account in zip(names, self._lookup(self._directory.account, names), strict=True):
            if account is None:
                report.unknown.append(name)
                continue
            outcome = self._store.remove(poll.poll_id, self._enrolment(poll, account))
            if outcome == "voted":  # only a hand-made ballot can be there before the poll opens
                raise Conflict(f"Poll {poll.poll_id} has ballots already, so no one can be taken off its roll.")
            if outcome == "removed":
                report.removed += 1
            else:
                report.absent.append(name)
        return report

    def page(self, poll_id: str, after: Optional[str]) -> Dict:
        poll = self._catalog.existing(poll_id)
        if after is not None and not 1 <= len(after) <= MAX_ENTRY:
            raise Invalid(f"next must be the next of a page of this roll (at most {MAX_ENTRY} characters).")
        voters, next_token = self._store.page(poll.poll_id, after, ROLL_PAGE)
        return {"poll_id": poll.poll_id, "electorate": poll.electorate, "size": self._store.size(poll.poll_id),
                "voters": voters, "next": next_token}

    @staticmethod
    def _lookup(find: Callable[[str], Optional[Account]], names: List[str]) -> List[Optional[Account]]:
        from concurrent.futures import ThreadPoolExecutor  # here: only roll changes pay for its import

        with ThreadPoolExecutor(max_workers=LOOKUPS_AT_ONCE) as pool:
            return list(pool.map(find, names))

    def _enrolment(self, poll: Poll, account: Account) -> Enrolment:
        voter_id = self._pseudonym(account.sub)
        return Enrolment(username=account.username, email=account.email, voter_id=voter_id,
                         bucket=bucket_of(voter_id, poll.buckets))

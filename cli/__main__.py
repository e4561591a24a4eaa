"""Tally from the command line, against the local stack (`make run`).

    python -m cli vote margherita --as alice            # creates voter alice on first use, then votes
    python -m cli vote funghi --as bob --poll demo
    python -m cli polls --as alice
    python -m cli poll demo --as alice                  # the poll, and alice's own ballot
    python -m cli voter add carol                       # password kept in <state dir>/voters.json
    curl -H "Authorization: Bearer $(python -m cli token --as alice)" http://127.0.0.1:8000/polls

    python -m cli create-poll "Best pasta?" carbonara amatriciana --id pasta --results after_close
    python -m cli open pasta                            # operator commands sign in as the stack's operator
    python -m cli close pasta                           # takes effect a few seconds ahead: see its closes_at
    python -m cli close pasta --at 2026-12-24T18:00:00Z

    python -m cli create-poll "Board election" ann bob --id board --electorate roll   # only the roll votes
    python -m cli roll add board members.csv            # first column, or its voter/username/email column
    python -m cli roll add board members.csv --invite   # and create and invite the emails with no account
    python -m cli roll show board                       # the roll's size and every entry
    python -m cli roll remove board bob-smith ann.lee@example.org
    python -m cli export board -o board.csv             # the results as CSV (stdout without -o)

    python -m cli --json poll demo --as alice           # raw JSON on stdout, for scripts
    python -m cli --state-dir /tmp/st polls --as alice  # the stack `python -m devstack --state-dir /tmp/st` runs

The CLI talks to the stack that runs from a state directory: .devstack/ (`make run`'s) unless --state-dir DIR or
TALLY_STATE_DIR says otherwise. Its stack.json gives the API's address and the operator's password, and voters.json
keeps the passwords of the voters the CLI makes. --api URL (TALLY_API_URL) names an API instead (cli/target.py).
Exit status: 0 done, 1 refused by the API or unable to go on (the reason is printed), 2 bad usage.
"""
import argparse
import json
import re
import sys
import urllib.parse
from pathlib import Path

from cli import target
from cli.accounts import Session
from tally_client.http import Failure, Unreachable, call, send, send_raw, unreachable
from tally_client.resend import LOST, send_until_answered
from tally_client.rollfile import read_roll_file, roll_batch_limit, roll_batches, roll_body_limit

ROLL_TIMEOUT_S = 120  # a batch is up to 1,000 user pool lookups and 21 transactions; a lost answer is resent


def refuse(status: int, body: dict, as_json: bool):
    """The API said no: show its own words, and let scripts see it in the exit status."""
    if as_json:
        print(json.dumps(body, indent=2))
    else:
        print(f"{status} {body.get('Code', 'Error')}: {body.get('Message', body)}", file=sys.stderr)
    raise SystemExit(1)


def answer(status: int, body: dict, args) -> dict:
    if status >= 400:
        refuse(status, body, args.json)
    if args.json:
        print(json.dumps(body, indent=2))
    return body


def request(args, method: str, path: str, body: dict = None):
    session = Session(args.target)
    status, reply = call(args.api, method, path, session.token(args.user), body)
    if status == 403 and not args.json:
        print(f"({args.user} is not in the pool's {session.config['operators_group']} group, whose members manage "
              f"polls)", file=sys.stderr)
    return status, reply


# --- commands -----------------------------------------------------------------------------------------

def voter_add(args):
    session = Session(args.target)
    created = session.add_voter(args.name)
    if args.json:
        print(json.dumps({"username": args.name, "created": created}))
    elif created:
        print(f"created voter {args.name} (password in {session.voters_path})")
    else:
        print(f"voter {args.name} already exists")


def token(args):
    result = Session(args.target).sign_in(args.user)
    print(json.dumps(result, indent=2) if args.json else result["IdToken"])


def vote(args):
    session = Session(args.target)
    # So a newcomer can vote in one step; stderr keeps stdout to the vote itself for scripts.
    if session.add_voter(args.user):
        print(f"created voter {args.user} (password in {session.voters_path})", file=sys.stderr)
    body = {"poll_id": args.poll} if args.poll else None
    path, token = f"/votes/{urllib.parse.quote(args.candidate, safe='')}", session.token(args.user)

    def retrying(last, wait):
        said = f"answered {last[0]}" if last[0] is not LOST else "did not answer"
        print(f"the API {said}; resending the vote in {wait:.1f} s (safe: a resend never counts twice)",
              file=sys.stderr)

    status, _, ballot = send_until_answered(lambda: send(args.api, "POST", path, token, body), on_retry=retrying)
    if status is LOST:
        raise unreachable(args.api, ballot)
    answer(status, ballot, args)
    if not args.json:
        again = " (already recorded: same ballot)" if status == 200 else ""
        print(f"{status} voted {ballot['candidate']} in {ballot['poll_id']} at {ballot['cast_at']}{again}")


def polls(args):
    listed = answer(*request(args, "GET", "/polls"), args)["polls"]
    if args.json:
        return
    if not listed:
        print("no polls")
    width = max((len(p["poll_id"]) for p in listed), default=0)
    for poll in listed:
        print(f"{poll['poll_id']:<{width}}  {poll['status']:<9}  {poll['title']}")


def poll(args):
    session = Session(args.target)
    token = session.token(args.user)
    poll_id = urllib.parse.quote(args.poll_id, safe="")
    status, found = call(args.api, "GET", f"/polls/{poll_id}", token)
    if status >= 400:
        refuse(status, found, args.json)
    status, mine = call(args.api, "GET", f"/votes/mine?poll_id={poll_id}", token)
    if status >= 400 and status != 404:
        refuse(status, mine, args.json)
    mine = mine if status == 200 else None
    if args.json:
        print(json.dumps({"poll": found, "mine": mine}, indent=2))
        return
    print(f"{found['poll_id']}: {found['title']}")
    print(f"  status   {found['status']} (results {found['results']})")
    if found.get("opens_at") or found.get("closes_at"):
        print(f"  window   {found.get('opens_at') or '-'} to {found.get('closes_at') or '-'}")
    print("  candidates")
    for candidate in found["candidates"]:
        print(f"    {candidate['id']:<20} {candidate['label']}")
    print(f"  you voted {mine['candidate']} at {mine['cast_at']}" if mine else "  you have not voted")


def create_poll(args):
    body = {"title": args.title, "candidates": args.candidates}
    if args.id:
        body["poll_id"] = args.id
    if args.results:
        body["results"] = args.results
    if args.peak:
        body["expected_peak_votes_per_s"] = args.peak
    if args.electorate:
        body["electorate"] = args.electorate
    if args.opens_at:
        body["opens_at"] = args.opens_at
    status, created = request(args, "POST", "/polls", body)
    answer(status, created, args)
    if not args.json:
        ids = ", ".join(c["id"] for c in created["candidates"])
        roll = ", roll: add its voters with `roll add`" if created.get("electorate") == "roll" else ""
        print(f"{status} created poll {created['poll_id']} ({created['status']}, results {created['results']}{roll}): "
              f"{created['title']} [{ids}]")


def transition(action: str):
    def command(args):
        body = {"at": args.at} if getattr(args, "at", None) else None
        status, changed = request(args, "POST", f"/polls/{urllib.parse.quote(args.poll_id, safe='')}/{action}",
                                  body)
        answer(status, changed, args)
        if not args.json:
            if action == "close":
                print(f"{status} poll {changed['poll_id']} closes at {changed['closes_at']}")
            else:
                print(f"{status} poll {changed['poll_id']} is now {changed['status']}")
    return command


def poll_path(poll_id: str, rest: str = "") -> str:
    return f"/polls/{urllib.parse.quote(poll_id, safe='')}{rest}"


def resend_notice(what: str):
    def retrying(last, wait):
        said = f"answered {last[0]}" if last[0] is not LOST else "did not answer"
        print(f"the API {said}; resending {what} in {wait:.1f} s (safe: entries done already answer as such)",
              file=sys.stderr)
    return retrying


def send_batch(args, token: str, path: str, body: dict, what: str):
    """POST a roll batch, resent under tally_client.resend's policy after a 429, a 5xx or a lost connection: a resend
    finds the voters the first attempt put on the roll `already` there, so it never adds anyone twice."""
    status, _, reply = send_until_answered(
        lambda: send(args.api, "POST", path, token, body, timeout=ROLL_TIMEOUT_S), on_retry=resend_notice(what))
    if status is LOST:
        raise unreachable(args.api, reply)
    return status, reply


def name_lines(message: str, lines: list, path) -> str:
    """The API names a bad entry by its place in the batch (voters[i]); say which line of the file it is."""
    return re.sub(r"voters\[(\d+)\]",
                  lambda m: f"{path} line {lines[int(m.group(1))]}" if int(m.group(1)) < len(lines) else m.group(0),
                  message).replace("Nothing was added.", "Nothing of this batch was added.")


def roll_add(args):
    roll = read_roll_file(args.file)  # tally_client/rollfile.py says which column and which lines
    entries = roll.entries
    if not entries:
        raise Failure(f"{args.file} lists no voters.")
    if roll.skipped:
        print(f"{args.file}: skipped line {', '.join(map(str, roll.skipped))}, with no {roll.column or 'entry'}",
              file=sys.stderr)
    session = Session(args.target)
    token, path = session.token(args.user), poll_path(args.poll_id, "/roll")
    total = {"added": 0, "already": 0, "invited": 0, "unknown": []}
    # Up to 1,000 entries a request, fewer when they would make the body larger than the API takes.
    batches = roll_batches(entries, max_bytes=roll_body_limit(session.config),
                           max_entries=roll_batch_limit(session.config), entry=lambda item: item[1])
    for number, batch in enumerate(batches, 1):
        lines, voters = [line for line, _ in batch], [entry for _, entry in batch]
        status, reply = send_batch(args, token, path, {"voters": voters, "invite": args.invite},
                                   f"batch {number} of {len(batches)}")
        if status >= 400:
            done = sum(len(b) for b in batches[:number - 1])
            if status == 400:
                reply = {**reply, "Message": name_lines(reply.get("Message", ""), lines, args.file)}
            if done:
                print(f"the {done:,} entries before line {lines[0]} were sent: {summary(total)}", file=sys.stderr)
            if status == 400 and not args.json:
                print(f"sending {args.file} again after fixing it is safe: voters already on the roll answer as "
                      f"`already`", file=sys.stderr)
            refuse(status, reply, args.json)
        for key in ("added", "already", "invited"):
            total[key] += reply[key]
        total["unknown"] += reply["unknown"]
        if not args.json:
            sent = sum(len(b) for b in batches[:number])
            print(f"{sent:,}/{len(entries):,} sent: {summary(total)}", file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps({"poll_id": args.poll_id, "sent": len(entries), **total}, indent=2))
        return
    print(f"roll of {args.poll_id}: {summary(total)}")
    for name in total["unknown"]:
        print(f"  unknown: {name}")
    if total["unknown"] and not args.invite:
        print("  (no account has these names; --invite creates and invites those that are email addresses)")


def summary(total: dict) -> str:
    return (f"{total['added']:,} added, {total['already']:,} already on the roll, {total['invited']:,} invited, "
            f"{len(total['unknown']):,} unknown")


def roll_show(args):
    session = Session(args.target)
    token = session.token(args.user)
    voters, after, page = [], None, None
    while True:
        query = f"?next={urllib.parse.quote(after, safe='')}" if after else ""
        status, page = call(args.api, "GET", poll_path(args.poll_id, "/roll") + query, token)
        if status >= 400:
            refuse(status, page, args.json)
        voters += page["voters"]
        after = page["next"]
        if not after:
            break
    if args.json:
        print(json.dumps({"poll_id": page["poll_id"], "size": page["size"], "voters": voters}, indent=2))
        return
    print(f"roll of {page['poll_id']}: {page['size']:,} voters")
    width = max((len(v["username"]) for v in voters), default=0)
    for voter in voters:
        print(f"  {voter['username']:<{width}}  {voter.get('email') or '-':<30}  added {voter['added_on']}")


def roll_remove(args):
    session = Session(args.target)
    token, path = session.token(args.user), poll_path(args.poll_id, "/roll/remove")
    total = {"removed": 0, "absent": [], "unknown": []}
    for batch in roll_batches(args.names, max_bytes=roll_body_limit(session.config),
                              max_entries=roll_batch_limit(session.config)):
        status, reply = send_batch(args, token, path, {"voters": batch}, "removal")
        if status >= 400:
            refuse(status, reply, args.json)
        total["removed"] += reply["removed"]
        for key in ("absent", "unknown"):
            total[key] += reply[key]
    if args.json:
        print(json.dumps(total, indent=2))
        return
    print(f"roll of {args.poll_id}: {total['removed']} removed")
    for key, why in (("absent", "was not on the roll"), ("unknown", "names no account")):
        for name in total[key]:
            print(f"  {name}: {why}")


def export(args):
    session = Session(args.target)
    token = session.token(args.user)
    status, _, raw = send_until_answered(
        lambda: send_raw(args.api, "GET", poll_path(args.poll_id, "/results.csv"), token),
        on_retry=resend_notice("the export"))
    if status is LOST:
        raise unreachable(args.api, {"Message": raw.decode(errors="replace")})
    if status != 200:
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"Code": "Error", "Message": raw.decode(errors="replace")[:300]}
        refuse(status, body, args.json)
    if args.output in (None, "-"):
        sys.stdout.buffer.write(raw)
        sys.stdout.flush()
        return
    Path(args.output).write_bytes(raw)
    rows = len(raw.splitlines())
    print(f"wrote the results of {args.poll_id} to {args.output} ({rows} rows)", file=sys.stderr)


# --- parsing ------------------------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m cli", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--json", action="store_true", help="print the API's raw JSON instead of readable lines")
    top.add_argument("--state-dir", metavar="DIR",
                     help="the state directory of the stack to talk to (default: $TALLY_STATE_DIR, else .devstack/)")
    top.add_argument("--api", metavar="URL", help="the API to talk to (default: $TALLY_API_URL, else the one the "
                     "state directory's stack.json names)")
    # The same options after the subcommand too; SUPPRESS so an absent one does not undo a global one.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    common.add_argument("--state-dir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    common.add_argument("--api", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    command = command_maker(common)

    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    voter = commands.add_parser("voter", help="manage local voters")
    voter_commands = voter.add_subparsers(dest="voter_command", required=True, metavar="COMMAND")
    command(voter_commands, "add", voter_add, "create a voter in the local user pool").add_argument("name")
    add_voter_commands(commands, command)
    add_poll_commands(commands, command)
    roll = commands.add_parser("roll", help="a roll poll's roll: who may vote in it (operators)")
    add_roll_commands(roll.add_subparsers(dest="roll_command", required=True, metavar="COMMAND"), command)
    sub = command(commands, "export", export, "the results of a poll as CSV (operators): totals, shares, "
                  "turnout, timeline; never who voted", "operator")
    sub.add_argument("poll_id", metavar="POLL")
    sub.add_argument("-o", "--output", metavar="FILE", help="write it to FILE (default: stdout)")
    return top


def command_maker(common: argparse.ArgumentParser):
    """add_parser for one command: the common options, --as USER (required for a voter's commands, the operator
    by default for an operator's), and the function that runs it."""
    def command(under, name: str, run, help: str, user: str = None) -> argparse.ArgumentParser:
        sub = under.add_parser(name, parents=[common], help=help, description=help)
        if user == "voter":
            sub.add_argument("--as", dest="user", required=True, metavar="USER", help="who signs in")
        elif user == "operator":
            sub.add_argument("--as", dest="user", default="operator", metavar="USER",
                             help="who signs in (default: operator)")
        sub.set_defaults(run=run)
        return sub
    return command


def add_voter_commands(commands, command) -> None:
    command(commands, "token", token, "print USER's ID token (for curl)", "voter")
    sub = command(commands, "vote", vote, "vote for CANDIDATE, creating USER in the local pool if new", "voter")
    sub.add_argument("candidate")
    sub.add_argument("--poll", help="poll id (may be left out when exactly one poll is open)")
    command(commands, "polls", polls, "list polls", "voter")
    sub = command(commands, "poll", poll, "show a poll and your own ballot in it", "voter")
    sub.add_argument("poll_id")


def add_poll_commands(commands, command) -> None:
    sub = command(commands, "create-poll", create_poll, "create a poll (operators)", "operator")
    sub.add_argument("title")
    sub.add_argument("candidates", nargs="+", metavar="CANDIDATE", help="candidate ids, at least two")
    sub.add_argument("--id", help="poll id (default: chosen by the API)")
    sub.add_argument("--results", choices=["live", "after_close", "operators"],
                     help="who sees results: everyone while open (live), once closed (after_close), or operators only")
    sub.add_argument("--peak", type=int, metavar="VOTES_PER_S",
                     help="expected peak votes/s: sizes the poll's ballot buckets for good (default 2,000)")
    sub.add_argument("--electorate", choices=["open", "roll"],
                     help="open: anyone signed in votes (default); roll: only the voters put on its roll")
    sub.add_argument("--opens-at", metavar="TIME", help="open at this ISO 8601 time (default: at once); a roll "
                     "poll's voters can be taken off its roll only until then")
    sub = command(commands, "open", transition("open"), "open a poll (operators)", "operator")
    sub.add_argument("poll_id")
    sub = command(commands, "close", transition("close"), "close a poll (operators): it takes effect a few "
                  "seconds ahead, once every API instance can know of it", "operator")
    sub.add_argument("poll_id")
    sub.add_argument("--at", metavar="TIME", help="close later, at this ISO 8601 time")


def add_roll_commands(commands, command) -> None:
    sub = command(commands, "add", roll_add, "put the voters a CSV file lists on POLL's roll, 1,000 per request; "
                  "a resend is safe (voters on it already answer as such)", "operator")
    sub.add_argument("poll_id", metavar="POLL")
    sub.add_argument("file", metavar="FILE.csv",
                     help="usernames or email addresses: the first column, or the column headed username, email "
                          "or voter; blank lines are skipped")
    sub.add_argument("--invite", action="store_true",
                     help="create an account, and have Cognito mail an invitation, for each email with none")
    sub = command(commands, "show", roll_show, "show POLL's roll: its size and every entry", "operator")
    sub.add_argument("poll_id", metavar="POLL")
    sub = command(commands, "remove", roll_remove, "take voters off POLL's roll (only before the poll opens)",
                  "operator")
    sub.add_argument("poll_id", metavar="POLL")
    sub.add_argument("names", nargs="+", metavar="NAME", help="usernames or email addresses")


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        args.target = target.resolve(args.api, args.state_dir)
        args.api = args.target.api
        args.run(args)
    except Unreachable as failure:
        print(f"error: {failure} Is the stack running (`make run`)? {target.POINT_ELSEWHERE}", file=sys.stderr)
        return 1
    except Failure as failure:
        print(f"error: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

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

    python -m cli --json poll demo --as alice           # raw JSON on stdout, for scripts

The API is http://127.0.0.1:8000 unless --api URL or TALLY_API_URL says otherwise; the stack's files
(stack.json with the operator's password, voters.json) are in .devstack/ unless TALLY_STATE_DIR says otherwise.
Exit status: 0 done, 1 refused by the API or unable to go on (the reason is printed), 2 bad usage.
"""
import argparse
import json
import os
import sys
import urllib.parse

from .client import DEFAULT_API, Failure, Session, call, send, unreachable
from .retry import LOST, send_until_answered


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
    session = Session(args.api)
    return call(args.api, method, path, session.token(args.user), body)


# --- commands -----------------------------------------------------------------------------------------

def voter_add(args):
    session = Session(args.api)
    created = session.add_voter(args.name)
    if args.json:
        print(json.dumps({"username": args.name, "created": created}))
    elif created:
        print(f"created voter {args.name} (password in {session.voters_path})")
    else:
        print(f"voter {args.name} already exists")


def token(args):
    result = Session(args.api).sign_in(args.user)
    print(json.dumps(result, indent=2) if args.json else result["IdToken"])


def vote(args):
    session = Session(args.api)
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
    session = Session(args.api)
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
    status, created = request(args, "POST", "/polls", body)
    answer(status, created, args)
    if not args.json:
        ids = ", ".join(c["id"] for c in created["candidates"])
        print(f"{status} created poll {created['poll_id']} ({created['status']}, results {created['results']}): "
              f"{created['title']} [{ids}]")


def transition(action: str):
    def command(args):
        body = {"at": args.at} if getattr(args, "at", None) else None
        status, changed = request(args, "POST", f"/polls/{urllib.parse.quote(args.poll_id, safe='')}/{action}",
                                  body)
        answer(status, changed, args)
        if not args.json:
            closing = f", closing at {changed['closes_at']}" if action == "close" else ""
            print(f"{status} poll {changed['poll_id']} is now {changed['status']}{closing}")
    return command


# --- parsing ------------------------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m cli", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--json", action="store_true", help="print the API's raw JSON instead of readable lines")
    top.add_argument("--api", help=f"API base URL (default: $TALLY_API_URL or {DEFAULT_API})")
    # The same two options after the subcommand too; SUPPRESS so an absent one does not undo a global one.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    common.add_argument("--api", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, run, help, user=None):
        sub = commands.add_parser(name, parents=[common], help=help, description=help)
        if user == "voter":
            sub.add_argument("--as", dest="user", required=True, metavar="USER", help="who signs in")
        elif user == "operator":
            sub.add_argument("--as", dest="user", default="operator", metavar="USER",
                             help="who signs in (default: operator)")
        sub.set_defaults(run=run)
        return sub

    voter = commands.add_parser("voter", help="manage local voters")
    voter_commands = voter.add_subparsers(dest="voter_command", required=True, metavar="COMMAND")
    add = voter_commands.add_parser("add", parents=[common], help="create a voter in the local user pool")
    add.add_argument("name")
    add.set_defaults(run=voter_add)

    command("token", token, "print USER's ID token (for curl)", "voter")
    sub = command("vote", vote, "vote for CANDIDATE, creating USER in the local pool if new", "voter")
    sub.add_argument("candidate")
    sub.add_argument("--poll", help="poll id (may be left out when exactly one poll is open)")
    command("polls", polls, "list polls", "voter")
    sub = command("poll", poll, "show a poll and your own ballot in it", "voter")
    sub.add_argument("poll_id")
    sub = command("create-poll", create_poll, "create a poll (operators)", "operator")
    sub.add_argument("title")
    sub.add_argument("candidates", nargs="+", metavar="CANDIDATE", help="candidate ids, at least two")
    sub.add_argument("--id", help="poll id (default: chosen by the API)")
    sub.add_argument("--results", choices=["live", "after_close"], help="who sees results before closing")
    sub.add_argument("--peak", type=int, metavar="VOTES_PER_S",
                     help="expected peak votes/s: sizes the poll's ballot buckets for good (default 2,000)")
    sub = command("open", transition("open"), "open a poll (operators)", "operator")
    sub.add_argument("poll_id")
    sub = command("close", transition("close"), "close a poll (operators): it takes effect a few seconds "
                  "ahead, once every API instance can know of it", "operator")
    sub.add_argument("poll_id")
    sub.add_argument("--at", metavar="TIME", help="close later, at this ISO 8601 time")
    return top


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    args.api = args.api or os.environ.get("TALLY_API_URL") or DEFAULT_API
    try:
        args.run(args)
    except Failure as failure:
        print(f"error: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

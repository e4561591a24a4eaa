"""A poll's results as one CSV table: the totals, shares, turnout and timeline that GET /results shows, and
nothing else. A ballot never leaves the ledger, so the file cannot say who voted, let alone for what."""
import csv
import io

COLUMNS = ("section", "id", "label", "votes", "share", "at", "seconds")
# A spreadsheet runs a cell that starts with one of these as a formula: a label is the operator's text, but the
# file is opened by others, so such a cell is kept as text (OWASP's CSV injection advice).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def results_csv(title: str, view: dict) -> str:
    """`view` is a results view (domain/results.py results_view)."""
    out = io.StringIO()
    rows = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    rows.writerow(COLUMNS)
    rows.writerow(("poll", view["poll_id"], _text(title), view["total"], "", view["as_of"], ""))
    rows.writerow(("status", view["status"], "", "", "", "", ""))
    for c in view["candidates"]:
        rows.writerow(("candidate", c["id"], _text(c["label"]), c["votes"], c["share"], "", ""))
    turnout = view.get("turnout")
    if turnout is not None:
        share = round(turnout["cast"] / turnout["roll"], 4) if turnout["roll"] else ""
        rows.writerow(("turnout", "cast", "ballots cast", turnout["cast"], share, "", ""))
        rows.writerow(("turnout", "roll", "voters on the roll", turnout["roll"], "", "", ""))
    for point in view["timeline"]:
        rows.writerow(("timeline", "", "", point["votes"], "", point["t"], point["seconds"]))
    return out.getvalue()

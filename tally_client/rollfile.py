"""Roll files: the voters an operator lists for a roll poll, read from a CSV file or a pasted list, and cut into
the batches the API takes. The dashboard reads them by the same rule (dashboard/js/roll.js); tests/roll_files.json
holds the cases both must agree on (tests/unit/test_roll_file.py here, tests/js/roll.test.mjs there).

The rule, as someone saving a spreadsheet expects it:
- A CSV file is RFC 4180: a cell in double quotes may hold separators, line breaks and doubled quotes (""); lines
  end in CRLF, LF or CR; a UTF-8 byte order mark is dropped. The separator is the first non-blank line's most
  frequent of comma, semicolon and tab outside quotes (a comma-decimal locale's spreadsheet writes semicolons),
  a comma when it has none. Spaces before a cell are ignored, and cells are trimmed (BLANK).
- Its voters are the first column; or, when the first non-blank row is a header (a cell named voter, username or
  email, in any case), the column under it of the first of these names the header holds: a `voter` column was
  made for the roll, and a username names one account where an email address may not.
- Blank lines are skipped, and so are rows whose voter cell is blank (their lines are told, as `skipped`).
- A malformed line, a quote that is never closed or text after a closing quote, refuses the whole file, naming
  the line its row starts on: nothing is sent.
- A pasted list is one entry a line, or several separated by commas, semicolons or tabs: no header, no quotes.
Each entry keeps the 1-based line its row starts on. Entries are sent as written: the API decides what a
username or an email address is, and refuses a batch naming the position of a bad entry (voters[3]), which the
client tells as that entry's line. GET /config publishes no rule for an entry, so the client checks none.

Batches: at most `max_entries` entries (GET /config's limits.max_roll_batch) whose request body stays within
`max_bytes` (limits.max_roll_body_bytes). A body is counted as Python's json.dumps writes {"voters": [...],
"invite": false} (every non-ASCII character escaped, ", " between entries): never shorter than what a browser's
JSON.stringify sends, so the dashboard cuts its batches by the same count.
"""
import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple, TypeVar, Union

from tally_client.http import Failure

HEADER_NAMES = ("voter", "username", "email")  # a header's cell of these names, in this order, says the column
SEPARATORS = (",", ";", "\t")  # the first wins a tie
BLANK = " \t\r\n\u00a0"  # trimmed off a cell: spaces, tabs, a quoted line break, a spreadsheet's no-break space
LIST_SEPARATORS = re.compile(r"[,;\t]")
LINE_END = re.compile(r"\r\n|\n|\r")
QUOTED = re.compile(r'"[^"]*"')
UNCLOSED = "a quote that is never closed"
AFTER_QUOTE = "text after a closing quote"
EMPTY_BODY = json.dumps({"voters": [], "invite": False})
Item = TypeVar("Item")


class RollFileError(Failure):
    """A roll that cannot be read by the rule: `problems` are (line, reason), and nothing of it is sent."""

    def __init__(self, source: str, problems: Sequence[Tuple[int, str]]):
        self.problems = list(problems)
        said = "; ".join(f"line {line}: {reason}" for line, reason in self.problems)
        super().__init__(f"{source} {said}. Nothing was sent: correct it and send it again.")


@dataclass(frozen=True)
class Roll:
    """What a roll lists: (line, entry) in order; the header's name of the column read (None: the first column, or
    a list); the lines of rows whose voter cell is blank."""
    entries: List[Tuple[int, str]]
    column: Optional[str] = None
    skipped: List[int] = field(default_factory=list)


def read_roll(text: str, source: str = "the roll file") -> Roll:
    """A CSV file's voters; a RollFileError at a malformed line (`source` names the file in its message)."""
    rows = [(line, [cell.strip(BLANK) for cell in cells]) for line, cells in csv_rows(text, source)]
    rows = [(line, cells) for line, cells in rows if any(cells)]
    column, name = 0, None
    if rows:
        header = [cell.lower() for cell in rows[0][1]]
        name = next((candidate for candidate in HEADER_NAMES if candidate in header), None)
        if name:
            column = header.index(name)
            rows = rows[1:]
    entries, skipped = [], []
    for line, cells in rows:
        value = cells[column] if column < len(cells) else ""
        if value:
            entries.append((line, value))
        else:
            skipped.append(line)
    return Roll(entries, name, skipped)


def read_list(text: str) -> Roll:
    """A pasted list's voters."""
    lines = LINE_END.split(text.removeprefix("\ufeff"))
    parts = [(number, part.strip(BLANK)) for number, line in enumerate(lines, 1)
             for part in LIST_SEPARATORS.split(line)]
    return Roll([(number, part) for number, part in parts if part])


def read_roll_file(path: Union[str, Path]) -> Roll:
    """A roll CSV file's voters; a Failure that says why when it cannot be read."""
    try:
        text = Path(path).read_bytes().decode("utf-8")  # not read_text, which would rewrite the line ends
    except OSError as error:
        raise Failure(f"Cannot read {path}: {error.strerror or error}.") from None
    except UnicodeDecodeError:
        raise Failure(f"{path} is not UTF-8 text; save it from the spreadsheet as CSV UTF-8.") from None
    return read_roll(text, str(path))


def csv_rows(text: str, source: str) -> List[Tuple[int, List[str]]]:
    """The rows of a CSV table, each with the line it starts on, by the rule's separator, quotes and line ends."""
    text = text.removeprefix("\ufeff")
    # strict: text after a closing quote, or a file ending inside quotes, is an error rather than a guess.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator(text), strict=True,
                        skipinitialspace=True)
    rows, start = [], 1
    try:
        for cells in reader:
            rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as error:  # a field over csv's size limit is, in a roll, a quote left open as well
        raise RollFileError(source, [(start, AFTER_QUOTE if "expected after" in str(error) else UNCLOSED)]) from None
    return rows


def separator(text: str) -> str:
    first = next((line for line in LINE_END.split(text) if line.strip(BLANK)), "")
    outside = QUOTED.sub("", first)
    counts = [outside.count(candidate) for candidate in SEPARATORS]
    return SEPARATORS[counts.index(max(counts))] if max(counts) else ","


# --- batches --------------------------------------------------------------------------------------------------

def roll_batch_limit(config: dict) -> int:
    """The most entries a roll change takes (GET /config's limits.max_roll_batch)."""
    return _limit(config, "max_roll_batch")


def roll_body_limit(config: dict) -> int:
    """The largest roll change body the API takes (GET /config's limits.max_roll_body_bytes)."""
    return _limit(config, "max_roll_body_bytes")


def _limit(config: dict, name: str) -> int:
    try:
        return int(config["limits"][name])
    except (KeyError, TypeError, ValueError):
        raise Failure(f"The API's GET /config gives no limits.{name}: it is older than this client.") from None


def roll_batches(items: Sequence[Item], *, max_bytes: int, max_entries: int,
                 entry: Optional[Callable[[Item], str]] = None) -> List[List[Item]]:
    """`items` cut into consecutive batches of at most `max_entries` whose body stays within `max_bytes`, counted
    as the module's docstring says (entry(item) is the string sent; the item itself without it). An entry too
    long for any body goes alone, for the API to refuse."""
    base = len(EMPTY_BODY.encode())
    batches: List[List[Item]] = []
    current: List[Item] = []
    size = base
    for item in items:
        cost = len(json.dumps(entry(item) if entry else item).encode()) + 2  # the entry and its ", "
        if current and (len(current) == max_entries or size + cost > max_bytes):
            batches.append(current)
            current, size = [], base
        current.append(item)
        size += cost
    if current:
        batches.append(current)
    return batches

"""No client keeps its own copy of a rule that GET /config publishes: the dashboard, the vote page and the screen
(dashboard/), the CLI, the client package and the load test take the limits, the id pattern and the operators'
group from the API, so that a rule changed in chalicelib is changed for every client at once. A copy written into a
client is found here by its value, as the server has it now.

Only values that say what they are count. A distinctive value counts wherever it is written: 1,000,000 votes/s,
16 KiB, 800 KiB, the id pattern (or its 63) and the group's name as a quoted string. A common one counts only on a
line about its rule, since the same number means other things elsewhere: 200 (HTTP's OK, too) beside a title, a
label or a maxlength; 100 (a percentage, too) beside candidates; 1,000 (milliseconds in a second, too) beside a
batch; "mine" (a path of the API, too) beside "reserved". "operators" is also a value of a poll's `results`
(shown to operators only): a line about results is that value, not the group. min_candidates (2) is too small a
number to tell apart; its copies come with max_candidates' ("2 to 100"). Comments are not code and are left out."""
import io
import re
import tokenize
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

from chalicelib.api.requests import MAX_BODY_BYTES, MAX_ROLL_BODY_BYTES
from chalicelib.domain.limits import OPERATORS_GROUP, client_limits

ROOT = Path(__file__).resolve().parents[2]
CLIENT_CODE = ("dashboard/js/*.js", "dashboard/*.html", "cli/**/*.py", "tally_client/**/*.py", "loadtest/**/*.py")


def published() -> Tuple[dict, str]:
    """What GET /config publishes (chalicelib/api/public.py client_config): the limits and the group."""
    limits = {**client_limits(), "max_body_bytes": MAX_BODY_BYTES, "max_roll_body_bytes": MAX_ROLL_BODY_BYTES}
    return limits, OPERATORS_GROUP


def number(value: int) -> str:
    """A regex for `value` written as a number, in code or in words: 16384, 16_384, 16,384, 16 * 1024, 16 KiB,
    1e6; never as a part of another number (1200, 0.200, 3,200)."""
    forms = {str(value), f"{value:_}", f"{value:,}"}
    if value % 1024 == 0:
        kib = value // 1024
        forms |= {rf"{kib}\s*\*\s*1024", rf"{kib}\s*<<\s*10", rf"{kib}\s*KiB", rf"{kib}\s*KB"}
    digits = str(value)
    if len(digits) > 3 and digits.strip("0") == "1":
        forms.add(f"1e{len(digits) - 1}")
    return r"(?<![\w.,])(?:" + "|".join(sorted(forms, key=len, reverse=True)) + r")(?!\.?\d)(?!\w)"


def rules() -> List[Tuple[str, re.Pattern, re.Pattern | None, re.Pattern | None]]:
    """(name, the value written out, a context the line must have, a context that makes it something else)."""
    limits, group = published()
    longest_id = int(re.search(r"\{0,(\d+)\}", limits["id_pattern"]).group(1)) + 1
    ids = re.escape(limits["id_pattern"].strip("^$")).replace(r"\-", r"\\?-")
    found = [
        ("id_pattern", re.compile(rf"{ids}|\{{0,\s*{longest_id - 1}\}}|\b1 to {longest_id}\b|"
                                  rf"\b{longest_id} (?:lowercase )?characters\b"), None, None),
        ("operators_group", re.compile(rf"""(?<![\w-])["']{re.escape(group)}["']"""), None,
         re.compile(r"results|after_close", re.I)),
        ("reserved_ids", re.compile("|".join(rf"""["']{re.escape(i)}["']""" for i in limits["reserved_ids"])),
         re.compile(r"reserved", re.I), None),
        ("max_title", re.compile(number(limits["max_title"])), re.compile(r"title|maxlength|characters", re.I), None),
        ("max_label", re.compile(number(limits["max_label"])), re.compile(r"label|maxlength|characters", re.I), None),
        ("max_candidates", re.compile(number(limits["max_candidates"])), re.compile(r"candidate", re.I), None),
        ("max_roll_batch", re.compile(number(limits["max_roll_batch"])), re.compile(r"batch|chunk", re.I), None),
    ]
    for name in ("max_peak_votes_per_s", "max_body_bytes", "max_roll_body_bytes"):
        found.append((name, re.compile(number(limits[name])), None, None))
    return found


def without_comments(path: Path, text: str) -> str:
    """The file's code, its comments blanked (line numbers kept)."""
    if path.suffix == ".py":
        kept = []
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                kept.append((token.start, token.end))
        lines = text.split("\n")
        for (row, start), (_, end) in kept:
            line = lines[row - 1]
            lines[row - 1] = line[:start] + " " * (end - start) + line[end:]
        return "\n".join(lines)
    blank = lambda match: re.sub(r"[^\n]", " ", match.group(0))  # noqa: E731 - keeps the line numbers
    if path.suffix == ".html":
        return re.sub(r"<!--.*?-->", blank, text, flags=re.S)
    text = re.sub(r"/\*.*?\*/", blank, text, flags=re.S)
    return "\n".join(_without_line_comment(line) for line in text.split("\n"))


def _without_line_comment(line: str) -> str:
    """A line of JavaScript before its // comment: the first // outside a string ("https://..." is not one)."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            if char == "\\":
                continue
            if char == quote and line[i - 1] != "\\":
                quote = None
        elif char in "\"'`":
            quote = char
        elif line.startswith("//", i):
            return line[:i]
    return line


def copies_in(path: Path, text: str) -> Iterator[str]:
    code = without_comments(path, text)
    for number_, line in enumerate(code.split("\n"), start=1):
        for name, value, context, other in rules():
            if value.search(line) and (context is None or context.search(line)) and not (other and other.search(line)):
                yield f"{path.relative_to(ROOT)}:{number_}: {name} ({value.search(line).group(0)}): {line.strip()}"


def client_files() -> List[Path]:
    files = {p for pattern in CLIENT_CODE for p in ROOT.glob(pattern) if "__pycache__" not in p.parts}
    return sorted(files)


def test_no_client_writes_a_limit_that_get_config_publishes():
    files = client_files()
    assert any(p.name == "dashboard.js" for p in files) and any(p.parts[-2] == "cli" for p in files), files
    copies = [copy for path in files for copy in copies_in(path, path.read_text(encoding="utf-8"))]
    assert not copies, "take these from GET /config instead:\n" + "\n".join(copies)


# The search itself: it finds the copies there were, and leaves the same numbers meaning something else alone.
@pytest.mark.parametrize("name, line", [
    ("x.js", "const MAX_PEAK_VOTES_PER_S = 1_000_000;"),
    ("x.js", 'fail("A poll id is 1 to 63 lowercase letters, digits and hyphens.");'),
    ("x.js", "const POLL_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;"),
    ("x.html", '<input name="poll_id" maxlength="63" pattern="[a-z0-9][a-z0-9\\-]{0,62}">'),
    ("x.html", '<input id="create-title-input" name="title" maxlength="200" required>'),
    ("x.html", '<span class="hint">one per line, 2 to 100 candidates</span>'),
    ("x.js", 'const operator = state.auth.groups.includes("operators");'),
    ("x.py", 'OPERATORS = "operators"'),
    ("x.py", "MAX_BODY = 16 * 1024"),
    ("x.py", 'print("bodies over 16 KiB are refused")'),
    ("x.py", "ROLL_BODY = 819200"),
    ("x.py", "BATCH = 1000  # entries a request"),
    ("x.js", "export const CHUNK_ENTRIES = 1_000;"),
    ("x.py", 'RESERVED = {"mine"}'),
])
def test_the_search_finds_a_copy(name, line):
    assert list(copies_in(ROOT / name, line)), line


@pytest.mark.parametrize("name, line", [
    ("x.js", "if (reply.status === 200) state.polls = reply.body.polls;"),
    ("x.js", "ui.title.textContent = `${Math.round(share * 100)}%`;"),
    ("x.js", "const wait = Math.ceil((c.nextTryAt - now) / 1000); // batch"),
    ("x.js", 'if (doc.results_mode === "operators") return "For its organisers only.";'),
    ("x.py", 'sub.add_argument("--results", choices=["live", "after_close", "operators"])'),
    ("x.py", 'print(json.dumps({"poll": found, "mine": mine}))'),
    ("x.py", 'requests.get(f"{api}/votes/mine")'),
    ("x.js", "// The title: up to 200 characters."),
    ("x.py", "delay = 1200  # a title's 200 characters"),
    ("x.js", 'fetch("https://example.org/"); const title = 1200;'),
])
def test_the_search_leaves_other_meanings_alone(name, line):
    assert not list(copies_in(ROOT / name, line)), line

// A roll poll's roll as an operator uploads it: a CSV file or a pasted list turned into entries (each with the
// line it came from) by the rule tally_client/rollfile.py states (tests/roll_files.json holds both readers to it),
// sent to POST /polls/{poll_id}/roll in batches, and what the API did with them summed up.
// Also the roll read a page at a time (GET), and one voter taken off it (POST .../roll/remove), in words.
// No DOM here (rollpanel.js draws it): tests/js/roll.test.mjs runs this module in Node.
import { errorMessage, sendSettled } from "./api.js";

// A header row is one with a cell of these names; its column is the first of them present, in this order.
export const HEADER_NAMES = ["voter", "username", "email"];
const SEPARATORS = [",", ";", "\t"]; // the first wins a tie
const LINE_END = /\r\n|\n|\r/;
// Trimmed off a cell: spaces, tabs, a quoted line break, a spreadsheet's no-break space.
const TRIMMED = /^[ \t\r\n\u00a0]+|[ \t\r\n\u00a0]+$/g;
const trim = (text) => text.replace(TRIMMED, "");
export const UNCLOSED = "a quote that is never closed";
export const AFTER_QUOTE = "text after a closing quote";

// One CSV table (RFC 4180) as rows of cells, each row with the 1-based line it starts on: {rows, problem}, the
// problem ({line, reason}, or null) ending the reading. Spaces before a cell are skipped, as Python's csv module
// does with skipinitialspace, and it is as strict: text after a closing quote is a problem, not a guess.
export function parseCsv(text) {
  const source = text.replace(/^\uFEFF/, "");
  const separator = separatorOf(source);
  const rows = [];
  let cells = [];
  let cell = "";
  let state = "start"; // of a cell; or "plain", "quoted", "quote" (a quote inside quotes: the end, or doubled)
  let line = 1;
  let start = 1;
  const endCell = () => {
    cells.push(cell);
    cell = "";
    state = "start";
  };
  for (let i = 0; i < source.length; i++) {
    let ch = source[i];
    if (ch === "\r" && source[i + 1] === "\n") {
      ch = "\r\n";
      i++;
    }
    const lineEnd = ch === "\n" || ch === "\r" || ch === "\r\n";
    if (state === "quoted") {
      if (ch === '"') state = "quote";
      else cell += ch;
      if (lineEnd) line++;
    } else if (state === "quote" && ch === '"') {
      cell += '"';
      state = "quoted";
    } else if (state === "quote" && !lineEnd && ch !== separator) {
      return { rows, problem: { line: start, reason: AFTER_QUOTE } };
    } else if (ch === separator) {
      endCell();
    } else if (lineEnd) {
      endCell();
      rows.push({ cells, line: start });
      cells = [];
      start = ++line;
    } else if (state === "start" && ch === '"') {
      state = "quoted";
    } else if (state !== "start" || ch !== " ") { // spaces before a cell are skipped
      cell += ch;
      state = "plain";
    }
  }
  if (state === "quoted") return { rows, problem: { line: start, reason: UNCLOSED } };
  if (state !== "start" || cells.length) {
    endCell();
    rows.push({ cells, line: start });
  }
  return { rows, problem: null };
}

// The first non-blank line's most frequent of comma, semicolon and tab outside quotes; a comma when it has none.
function separatorOf(text) {
  const first = text.split(LINE_END).find((l) => trim(l) !== "") ?? "";
  const outside = first.replace(/"[^"]*"/g, "");
  const counts = SEPARATORS.map((candidate) => outside.split(candidate).length - 1);
  const most = Math.max(...counts);
  return most ? SEPARATORS[counts.indexOf(most)] : ",";
}

const read = (entries, column = null, skipped = [], problems = []) => ({ entries, column, skipped, problems });

// A CSV file's entries: the first column, or, when the first non-blank row is a header (a cell named voter,
// username or email, in any case), that column below it. Cells are trimmed; blank rows are skipped, and so are
// rows with that cell blank (their lines in `skipped`). A malformed line gives `problems` and no entries.
export function rollFromCsv(text) {
  const { rows, problem } = parseCsv(text);
  if (problem) return read([], null, [], [problem]);
  const filled = rows.map((row) => ({ line: row.line, cells: row.cells.map(trim) }))
    .filter((row) => row.cells.some((c) => c !== ""));
  let column = null;
  let index = 0;
  if (filled.length) {
    const names = filled[0].cells.map((c) => c.toLowerCase());
    column = HEADER_NAMES.find((name) => names.includes(name)) ?? null;
    if (column) {
      index = names.indexOf(column);
      filled.shift();
    }
  }
  const entries = [];
  const skipped = [];
  for (const row of filled) {
    const value = row.cells[index] ?? "";
    if (value) entries.push({ value, line: row.line });
    else skipped.push(row.line);
  }
  return read(entries, column, skipped);
}

// A pasted list: one entry a line, or several on a line separated by commas, semicolons or tabs; no header, no
// quotes; trimmed, blanks skipped.
export function rollFromList(text) {
  const entries = [];
  text.replace(/^\uFEFF/, "").split(LINE_END).forEach((row, index) => {
    for (const part of row.split(/[,;\t]/)) {
      const value = trim(part);
      if (value) entries.push({ value, line: index + 1 });
    }
  });
  return read(entries);
}

// "“roster.csv” line 3: a quote that is never closed", for a reading's problems.
export const problemText = (name, problems) =>
  `${name} ${problems.map((p) => `line ${p.line}: ${p.reason}`).join("; ")}`;

// A body counted as the Python client writes it (json.dumps: every non-ASCII character escaped, ", " between
// entries), never shorter than JSON.stringify's: the two clients cut the same batches (tally_client/rollfile.py).
const EMPTY_BODY = '{"voters": [], "invite": false}';
const escapedLength = (value) => JSON.stringify(value).replace(/[\u007f-\uffff]/g, "\\u0000").length;

// Batches of at most `maxEntries` entries whose request body stays within `maxBytes` (GET /config's
// limits.max_roll_batch and max_roll_body_bytes). An entry too long for any body goes alone, for the API to refuse.
export function rollBatches(entries, { maxEntries, maxBytes }) {
  if (!(maxEntries >= 1 && maxBytes >= 1)) throw new TypeError("rollBatches needs the limits of GET /config");
  const batches = [];
  let batch = [];
  let bytes = EMPTY_BODY.length;
  for (const entry of entries) {
    const cost = escapedLength(entry.value) + 2; // the entry and its ", "
    if (batch.length && (batch.length >= maxEntries || bytes + cost > maxBytes)) {
      batches.push(batch);
      batch = [];
      bytes = EMPTY_BODY.length;
    }
    batch.push(entry);
    bytes += cost;
  }
  if (batch.length) batches.push(batch);
  return batches;
}

// The API names a malformed entry by its place in the request ("voters[3]"): say where it is in the upload.
export function placeInUpload(message, batch) {
  return message.replace(/\bvoters\[(\d+)\]/g, (whole, index) => {
    const entry = batch[Number(index)];
    return entry ? `line ${entry.line} (“${entry.value}”)` : whole;
  });
}

const lines = (batch) => {
  const first = batch[0].line;
  const last = batch[batch.length - 1].line;
  return first === last ? `line ${first}` : `lines ${first} to ${last}`;
};

// Sends the entries in batches, one after another, each until an answer settles it (sendSettled: a 429, a 5xx or
// a lost connection is sent again with backoff; a resend is safe, as entries done already count as "already").
// Stops at the first refusal. Answers the sums so far and how it ended:
//   outcome "done" | "refused" (message: the API's, with its positions as lines) | "offline" (no answer in time).
export async function uploadRoll(api, pollId, entries, {
  maxEntries, maxBytes, invite = false, giveUpMs = 60_000, onProgress = () => {}, onRetry = () => {},
}) {
  const summary = { added: 0, already: 0, invited: 0, unknown: [], sent: 0, total: entries.length };
  const path = `/polls/${encodeURIComponent(pollId)}/roll`;
  const batches = rollBatches(entries, { maxEntries, maxBytes });
  for (const [index, batch] of batches.entries()) {
    const settled = await sendSettled(
      (signal) => api.post(path, { voters: batch.map((e) => e.value), invite }, { signal }),
      { giveUpMs, onRetry: (retry) => onRetry({ ...retry, batch: index + 1, batches: batches.length }) });
    const before = summary.sent ? ` The ${summary.sent.toLocaleString()} entries before ${lines(batch)} were sent.` : "";
    if (!settled) {
      return { ...summary, outcome: "offline", message: `The API did not answer, so ${lines(batch)} and what ` +
        `follows were not sent.${before} Upload the same list again when it is back: entries on the roll already ` +
        "count as already." };
    }
    const { reply } = settled;
    if (reply.status !== 200) {
      const said = placeInUpload(errorMessage(reply), batch);
      const message = reply.status === 400
        ? `${said.replace(/\s*Nothing was added\.\s*$/, "")} Nothing from line ${batch[0].line} on was added: correct ` +
          `the list and upload it again (entries on the roll already count as already).${before}`
        : `${said}${before}`;
      return { ...summary, outcome: "refused", status: reply.status, message };
    }
    const body = reply.body;
    summary.added += body.added;
    summary.already += body.already;
    summary.invited += body.invited;
    summary.unknown.push(...body.unknown);
    summary.sent += batch.length;
    onProgress(summary);
  }
  return { ...summary, outcome: "done" };
}

// ---- the roll's members, and taking one off -------------------------------------------------------------------

export const ROLL_PAGE = 100; // entries a page of GET /polls/{poll_id}/roll holds (the API's page size)

const rollPath = (pollId) => `/polls/${encodeURIComponent(pollId)}/roll`;

// The roll from the page after `after` (from its start when null), a page at a time until at least `atLeast`
// entries are read or the roll ends: {ok: true, size, voters, next}, the size being that of the last page read;
// or {ok: false, reply} at the first answer other than 200 (what was read before it is dropped). A request that
// gets no answer throws OfflineError, as api.get does.
export async function readRoll(api, pollId, { after = null, atLeast = 1 } = {}) {
  const voters = [];
  let next = after;
  let size = null;
  do {
    const reply = await api.get(rollPath(pollId) + (next ? `?next=${encodeURIComponent(next)}` : ""));
    if (reply.status !== 200) return { ok: false, reply };
    size = reply.body.size;
    voters.push(...reply.body.voters);
    next = reply.body.next;
  } while (next && voters.length < atLeast);
  return { ok: true, size, voters, next };
}

// What POST /polls/{poll_id}/roll/remove did with one voter, in words: {outcome, kind, message}, the outcome being
// "removed", "absent" (not on the roll: taken off already, perhaps by a try whose answer was lost) or "unknown" (no
// account has that name). Only before the poll opens: after that the API refuses every removal alike.
export function removalOutcome(voter, body) {
  if (body.removed > 0) {
    return { outcome: "removed", kind: "ok", message: `${voter} can no longer vote in this poll.` };
  }
  if (body.unknown?.length) {
    return { outcome: "unknown", kind: "error", message: `No account is named ${voter}, so nothing was removed.` };
  }
  return { outcome: "absent", kind: "info",
    message: `${voter} is not on the roll (any more), so nothing was removed: they cannot vote in this poll.` };
}

// Takes one voter off the roll, sending the request until an answer settles it (sendSettled: a 429, a 5xx or a
// lost connection is sent again; safe, as a removal resent answers "absent"). Answers removalOutcome's words, or
// {outcome: "refused", status, message} (e.g. 409: the poll has opened, its roll can no longer shrink), or
// {outcome: "offline", message} when no answer came in time.
export async function removeFromRoll(api, pollId, voter, { giveUpMs = 30_000, onRetry = () => {} } = {}) {
  const settled = await sendSettled(
    (signal) => api.post(`${rollPath(pollId)}/remove`, { voters: [voter] }, { signal }), { giveUpMs, onRetry });
  if (!settled) {
    return { outcome: "offline", kind: "error", message: `The API did not answer, so ${voter} may still be on the ` +
      "roll. Try again when it is back: removing someone twice is safe." };
  }
  const { reply } = settled;
  if (reply.status !== 200) {
    return { outcome: "refused", kind: "error", status: reply.status, message: errorMessage(reply) };
  }
  return removalOutcome(voter, reply.body);
}

// A roll poll's roll as an operator uploads it: a CSV file or a pasted list turned into entries (each with the
// line it came from), sent to POST /polls/{poll_id}/roll in batches, and what the API did with them summed up.
// Also the roll read a page at a time (GET), and one voter taken off it (POST .../roll/remove), in words.
// No DOM here (rollpanel.js draws it): tests/js/roll.test.mjs runs this module in Node.
import { errorMessage, sendSettled } from "./api.js";

// A header row is one with a cell of these names; its column is the first of them present, in this order.
export const HEADER_NAMES = ["voter", "username", "email"];
export const CHUNK_ENTRIES = 250; // per request (the API takes 1 to 1,000): the progress bar moves every few seconds
const BODY_BYTES = 16 * 1024; // the API's limit (GET /config's limits.max_body_bytes), when config has none
const BODY_MARGIN = 64; // for {"voters":[],"invite":false}, with room to spare

// One CSV table (RFC 4180: quoted cells, "" inside quotes, CRLF, LF or CR line ends) as rows of cells, each row
// with the 1-based line it starts on. The delimiter is the first line's most frequent of comma, semicolon and
// tab (a spreadsheet in a comma-decimal locale writes semicolons). A byte order mark is dropped.
export function parseCsv(text) {
  const source = text.replace(/^\uFEFF/, "");
  const delimiter = sniffDelimiter(source);
  const rows = [];
  let cells = [];
  let cell = "";
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  const endCell = () => {
    cells.push(cell);
    cell = "";
  };
  const endRow = () => {
    endCell();
    rows.push({ cells, line: rowLine });
    cells = [];
  };
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (quoted) {
      if (ch === '"' && source[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        if (ch === "\n" || (ch === "\r" && source[i + 1] !== "\n")) line++;
        cell += ch;
      }
    } else if (ch === '"' && cell.trim() === "") {
      quoted = true;
      cell = "";
    } else if (ch === delimiter) {
      endCell();
    } else if (ch === "\r" || ch === "\n") {
      if (ch === "\r" && source[i + 1] === "\n") i++;
      endRow();
      line++;
      rowLine = line;
    } else {
      cell += ch;
    }
  }
  if (cell !== "" || cells.length) endRow();
  return rows;
}

function sniffDelimiter(text) {
  const first = text.split(/\r\n|\n|\r/).find((l) => l.trim() !== "") ?? "";
  const outside = first.replace(/"[^"]*"/g, "");
  let best = ",";
  let most = 0;
  for (const candidate of [",", ";", "\t"]) {
    const count = outside.split(candidate).length - 1;
    if (count > most) {
      best = candidate;
      most = count;
    }
  }
  return best;
}

const blank = (row) => row.cells.every((c) => c.trim() === "");

// A CSV file's entries: the first column, or, when the first non-blank row is a header (a cell named voter,
// username or email, in any case), that column below it. Blank lines and rows with that cell empty are skipped
// (counted in `skipped`); cells are trimmed.
export function rollFromCsv(text) {
  const rows = parseCsv(text).filter((row) => !blank(row));
  let column = 0;
  let header = null;
  if (rows.length) {
    const names = rows[0].cells.map((c) => c.trim().toLowerCase());
    const found = HEADER_NAMES.find((name) => names.includes(name));
    if (found) {
      header = found;
      column = names.indexOf(found);
      rows.shift();
    }
  }
  const entries = [];
  let skipped = 0;
  for (const row of rows) {
    const value = (row.cells[column] ?? "").trim();
    if (value) entries.push({ value, line: row.line });
    else skipped++;
  }
  return { entries, header, skipped };
}

// A pasted list: one entry a line, or several on a line separated by commas or semicolons; trimmed, blanks skipped.
export function rollFromList(text) {
  const entries = [];
  text.split(/\r\n|\n|\r/).forEach((row, index) => {
    for (const part of row.split(/[,;]/)) {
      const value = part.trim();
      if (value) entries.push({ value, line: index + 1 });
    }
  });
  return { entries, header: null, skipped: 0 };
}

// Batches of at most `size` entries whose request body stays under the API's limit.
export function chunk(entries, { size = CHUNK_ENTRIES, maxBytes = BODY_BYTES } = {}) {
  const budget = maxBytes - BODY_MARGIN;
  const encoder = new TextEncoder();
  const batches = [];
  let batch = [];
  let bytes = 0;
  for (const entry of entries) {
    const cost = encoder.encode(JSON.stringify(entry.value)).length + 1;
    if (batch.length && (batch.length >= size || bytes + cost > budget)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
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
  invite = false, size = CHUNK_ENTRIES, maxBytes = BODY_BYTES, giveUpMs = 60_000, onProgress = () => {},
  onRetry = () => {},
} = {}) {
  const summary = { added: 0, already: 0, invited: 0, unknown: [], sent: 0, total: entries.length };
  const path = `/polls/${encodeURIComponent(pollId)}/roll`;
  const batches = chunk(entries, { size, maxBytes });
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

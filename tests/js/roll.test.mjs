// The dashboard's roll upload (dashboard/js/roll.js) in Node, without a browser: `node --test tests/js/`.
// tests/e2e/test_roll_dashboard.py runs this file too, and drives the same code in Chromium against the stack.
// The reading and batching run the cases of tests/roll_files.json, which the Python client passes too
// (tests/unit/test_roll_file.py): the two agree on every one.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { OfflineError } from "../../dashboard/js/api.js";
import {
  placeInUpload, problemText, readRoll, removalOutcome, removeFromRoll, rollBatches, rollFromCsv, rollFromList,
  uploadRoll,
} from "../../dashboard/js/roll.js";

const CASES = JSON.parse(readFileSync(new URL("../roll_files.json", import.meta.url), "utf-8"));
const pairs = (parsed) => parsed.entries.map((e) => [e.line, e.value]);
const LIMITS = { maxEntries: 1000, maxBytes: 16 * 1024 };

for (const file of CASES.files) {
  test(`a roll file: ${file.case}`, () => {
    const parsed = rollFromCsv(file.text);
    if (file.problems) {
      assert.deepEqual(parsed.problems.map((p) => [p.line, p.reason]), file.problems);
      assert.deepEqual(parsed.entries, []);
    } else {
      assert.deepEqual([pairs(parsed), parsed.column, parsed.skipped, parsed.problems],
        [file.entries, file.column, file.skipped, []]);
    }
  });
}

for (const list of CASES.lists) {
  test(`a pasted list: ${list.case}`, () => assert.deepEqual(pairs(rollFromList(list.text)), list.entries));
}

for (const cut of CASES.batches) {
  test(`batches: ${cut.case}`, () => {
    const entries = cut.entries.map((value, i) => ({ value, line: i + 1 }));
    const batches = rollBatches(entries, { maxEntries: cut.max_entries, maxBytes: cut.max_bytes });
    assert.deepEqual(batches.map((b) => b.length), cut.sizes);
    assert.deepEqual(batches.flat(), entries);
  });
}

test("a batch's body as the browser sends it stays within the limit; no limits, no batches", () => {
  const long = Array.from({ length: 300 }, (_, i) => ({ value: `${"x".repeat(120)}é${i}`, line: i + 1 }));
  const batches = rollBatches(long, { maxEntries: 250, maxBytes: 16 * 1024 });
  assert.ok(batches.length > 2);
  for (const batch of batches) {
    const body = JSON.stringify({ voters: batch.map((e) => e.value), invite: false });
    assert.ok(new TextEncoder().encode(body).length <= 16 * 1024, body.length);
  }
  assert.throws(() => rollBatches(long, { maxEntries: undefined, maxBytes: 16 * 1024 }), TypeError);
});

test("a reading's problems in words", () => {
  assert.equal(problemText("“roster.csv”", rollFromCsv('username\n"ann\n').problems),
    "“roster.csv” line 2: a quote that is never closed");
});

test("the API's position in a batch becomes the line in the upload", () => {
  const batch = [{ value: "ok", line: 7 }, { value: "John Smith", line: 9 }];
  assert.equal(placeInUpload("Not a username or email address: voters[1] (no spaces).", batch),
    "Not a username or email address: line 9 (“John Smith”) (no spaces).");
});

// A stand-in for Api: answers from a script, one per request, and records the bodies.
function fakeApi(answers) {
  const sent = [];
  return {
    sent,
    async post(path, body) {
      sent.push({ path, body });
      const next = answers.shift() ?? "ok";
      if (next === "offline") throw new OfflineError("No answer");
      if (typeof next === "object") return next;
      const added = body.voters.filter((v) => !v.startsWith("nobody")).length;
      return { status: 200, body: { added, already: 0, invited: 0, unknown: body.voters.filter((v) => v.startsWith("nobody")) },
        headers: new Headers() };
    },
  };
}

test("an upload sends every batch, sums the answers and reports progress", async () => {
  const entries = rollFromList("a\nb\nc\nnobody-1\ne\nf\ng").entries;
  const api = fakeApi([]);
  const progress = [];
  const outcome = await uploadRoll(api, "board", entries,
    { ...LIMITS, maxEntries: 3, invite: true, onProgress: (s) => progress.push(s.sent) });
  assert.equal(outcome.outcome, "done");
  assert.deepEqual({ added: outcome.added, unknown: outcome.unknown, sent: outcome.sent }, { added: 6, unknown: ["nobody-1"], sent: 7 });
  assert.deepEqual(progress, [3, 6, 7]);
  assert.deepEqual(api.sent.map((r) => r.body.voters.length), [3, 3, 1]);
  assert.ok(api.sent.every((r) => r.path === "/polls/board/roll" && r.body.invite === true));
});

test("a 429, a 5xx or a lost connection sends the same batch again", async () => {
  const busy = { status: 429, body: { Message: "Slow down" }, headers: new Headers({ "Retry-After": "0" }) };
  const failed = { status: 503, body: null, headers: new Headers() };
  const api = fakeApi(["ok", busy, "offline", failed]);
  const retries = [];
  const outcome = await uploadRoll(api, "board", rollFromList("a\nb\nc\nd").entries,
    { ...LIMITS, maxEntries: 2, onRetry: (r) => retries.push([r.why, r.batch]) });
  assert.equal(outcome.outcome, "done");
  assert.equal(outcome.added, 4);
  assert.deepEqual(api.sent.map((r) => r.body.voters.join()), ["a,b", "c,d", "c,d", "c,d", "c,d"]);
  assert.deepEqual(retries, [["busy", 2], ["offline", 2], ["busy", 2]]);
});

test("a 400 stops the upload and names the line; what went before is summed", async () => {
  const refusal = { status: 400, headers: new Headers(), body: { Code: "BadRequestError",
    Message: "Not a username or email address: voters[1] (1 to 128 characters, no spaces). Nothing was added." } };
  const api = fakeApi(["ok", refusal]);
  const outcome = await uploadRoll(api, "board", rollFromCsv("username\nann\nbob\ncy\nJohn Smith\neve\n").entries,
    { ...LIMITS, maxEntries: 2 });
  assert.equal(outcome.outcome, "refused");
  assert.equal(outcome.added, 2);
  assert.equal(api.sent.length, 2);
  assert.match(outcome.message, /^Not a username or email address: line 5 \(“John Smith”\) \(1 to 128 characters, no spaces\)\. /);
  assert.match(outcome.message, /Nothing from line 4 on was added/);
  assert.match(outcome.message, /The 2 entries before lines 4 to 5 were sent\./);
});

test("no answer in time ends the upload as offline", async () => {
  const api = fakeApi(["offline", "offline", "offline", "offline", "offline", "offline"]);
  const outcome = await uploadRoll(api, "board", rollFromList("a").entries, { ...LIMITS, giveUpMs: 300 });
  assert.equal(outcome.outcome, "offline");
  assert.match(outcome.message, /The API did not answer/);
});

// A stand-in for GET /polls/{id}/roll: the roll `names`, `per` a page, the next token being the page's last name.
function rollApi(names, { per = 2, answers = [] } = {}) {
  const asked = [];
  return {
    asked,
    async get(path) {
      asked.push(path);
      const next = answers.shift();
      if (next === "offline") throw new OfflineError("No answer");
      if (typeof next === "object") return next;
      const after = new URL(path, "http://x").searchParams.get("next");
      const start = after ? names.indexOf(after) + 1 : 0;
      const page = names.slice(start, start + per);
      const more = start + per < names.length;
      return { status: 200, headers: new Headers(), body: { size: names.length, next: more ? page.at(-1) : null,
        voters: page.map((username) => ({ username, email: null, added_on: "2030-01-01" })) } };
    },
  };
}

test("the roll is read a page at a time, from its start or after a page's token, as far as asked", async () => {
  const names = ["ann", "bob", "cy", "dee", "eve"];
  const first = await readRoll(rollApi(names), "board");
  assert.deepEqual({ ok: first.ok, size: first.size, next: first.next }, { ok: true, size: 5, next: "bob" });
  assert.deepEqual(first.voters.map((v) => v.username), ["ann", "bob"]);
  const api = rollApi(names);
  const more = await readRoll(api, "board", { after: "bob" });
  assert.deepEqual(more.voters.map((v) => v.username), ["cy", "dee"]);
  assert.deepEqual(api.asked, ["/polls/board/roll?next=bob"]);
  // A refresh reads again as far as was shown: pages until at least that many, or the end.
  const again = rollApi(names);
  const far = await readRoll(again, "board", { atLeast: 3 });
  assert.deepEqual(far.voters.map((v) => v.username), ["ann", "bob", "cy", "dee"]);
  assert.equal(far.next, "dee");
  assert.deepEqual(again.asked, ["/polls/board/roll", "/polls/board/roll?next=bob"]);
  const all = await readRoll(rollApi(names), "board", { atLeast: 100 });
  assert.equal(all.voters.length, 5);
  assert.equal(all.next, null);
  const odd = rollApi(["x&y", "z"]); // the poll id and the token go in the address encoded
  await readRoll(odd, "p/1", { after: "x&y" });
  assert.deepEqual(odd.asked, ["/polls/p%2F1/roll?next=x%26y"]);
});

test("a refused page ends the read with the answer; no answer at all throws as the API does", async () => {
  const busy = { status: 429, headers: new Headers(), body: { Message: "Slow down" } };
  const read = await readRoll(rollApi(["a", "b", "c"], { answers: [undefined, busy] }), "board", { atLeast: 3 });
  assert.equal(read.ok, false);
  assert.equal(read.reply.status, 429);
  await assert.rejects(readRoll(rollApi(["a"], { answers: ["offline"] }), "board"), OfflineError);
});

test("a removal's answer in words: removed, absent, unknown", () => {
  const body = (over) => ({ removed: 0, absent: [], unknown: [], ...over });
  const removed = removalOutcome("roll-cy", body({ removed: 1 }));
  assert.deepEqual(removed, { outcome: "removed", kind: "ok", message: "roll-cy can no longer vote in this poll." });
  assert.equal(removalOutcome("x", body({ absent: ["x"] })).outcome, "absent");
  assert.match(removalOutcome("x", body({ absent: ["x"] })).message, /^x is not on the roll \(any more\)/);
  assert.equal(removalOutcome("gone", body({ unknown: ["gone"] })).message,
    "No account is named gone, so nothing was removed.");
});

// A stand-in for POST /polls/{id}/roll/remove: answers from a script, one per request.
function removalApi(answers) {
  const sent = [];
  return {
    sent,
    async post(path, body) {
      sent.push({ path, body });
      const next = answers.shift();
      if (next === "offline") throw new OfflineError("No answer");
      return next;
    },
  };
}

test("a removal is sent again after a 429, a 5xx or a lost connection; a resend's \"absent\" means off the roll",
  async () => {
    const ok = (over) => ({ status: 200, headers: new Headers(),
      body: { removed: 0, absent: [], unknown: [], ...over } });
    const busy = { status: 429, body: { Message: "Slow down" }, headers: new Headers({ "Retry-After": "0" }) };
    const failed = { status: 503, body: null, headers: new Headers() };
    const api = removalApi([busy, "offline", failed, ok({ absent: ["cy"] })]);
    const retries = [];
    const result = await removeFromRoll(api, "board", "cy", { onRetry: (r) => retries.push(r.why) });
    assert.equal(result.outcome, "absent"); // the lost first try may have taken cy off: either way, cy is off
    assert.match(result.message, /cy is not on the roll \(any more\)/);
    assert.deepEqual(retries, ["busy", "offline", "busy"]);
    assert.ok(api.sent.every((r) => r.path === "/polls/board/roll/remove" && r.body.voters.join() === "cy"));
    assert.equal(api.sent.length, 4);

    const removed = await removeFromRoll(removalApi([ok({ removed: 1 })]), "board", "cy");
    assert.equal(removed.outcome, "removed");
  });

test("a refused removal says why (a closed poll's roll is final); no answer in time says so", async () => {
  const closed = { status: 409, headers: new Headers(),
    body: { Code: "ConflictError", Message: "The poll board is closed: its roll is final." } };
  const refused = await removeFromRoll(removalApi([closed]), "board", "cy");
  assert.deepEqual(refused, { outcome: "refused", kind: "error", status: 409,
    message: "The poll board is closed: its roll is final." });
  const offline = await removeFromRoll(removalApi(Array(20).fill("offline")), "board", "cy", { giveUpMs: 300 });
  assert.equal(offline.outcome, "offline");
  assert.match(offline.message, /^The API did not answer, so cy may still be on the roll\./);
});

// The roll panel's upload: voters from a CSV file or a pasted list, read in the browser by roll.js (by the rule the
// CLI follows too, tally_client/rollfile.py), sent in batches with a progress bar, and a summary of what the API
// did with them.
import { problemText, rollFromCsv, rollFromList, uploadRoll } from "./roll.js";
import { $, el, plural, setMessage, show } from "./ui.js";

const UNKNOWN_OPEN_UP_TO = 10; // a longer list of unknown entries starts folded
const UPLOAD_BATCH = 250; // entries per request, so that the progress bar moves every few seconds

// Entries per request: UPLOAD_BATCH, or ?roll_batch=N in the page's address (the tests make it small); never more
// than the API takes, and each body within its limit (GET /config's limits.max_roll_batch, max_roll_body_bytes).
function batchLimits(limits) {
  const n = Number(new URLSearchParams(location.search).get("roll_batch"));
  const asked = Number.isInteger(n) && n >= 1 ? n : UPLOAD_BATCH;
  return { maxEntries: Math.min(limits.max_roll_batch, asked), maxBytes: limits.max_roll_body_bytes };
}

const entries = (n) => plural(n, "entry", "entries");

export class RollUpload {
  #api;
  #limits;
  #onDone;
  #poll = null;
  #source = null; // {name, parsed}: what the upload would send now
  #running = false;
  #refused = false; // the error box says why the file chosen cannot be sent

  // onDone(pollId, outcome): an upload to the poll's roll has ended, whatever of it was sent.
  constructor({ api, limits, onDone }) {
    this.#api = api;
    this.#limits = limits;
    this.#onDone = onDone;
    this.ui = {
      panel: $("#roll-panel"), form: $("#roll-form"), file: $("#roll-file"), list: $("#roll-list"),
      found: $("#roll-found"), invite: $("#roll-invite"), submit: $("#roll-submit"),
      progressBox: $("#roll-progress-box"), progress: $("#roll-progress"), progressText: $("#roll-progress-text"),
      error: $("#roll-error"), summary: $("#roll-summary"), summaryTitle: $("#roll-summary-title"),
      added: $("#roll-added"), already: $("#roll-already"), invited: $("#roll-invited"),
      unknownCount: $("#roll-unknown-count"), unknown: $("#roll-unknown"), unknownSummary: $("#roll-unknown-summary"),
      unknownList: $("#roll-unknown-list"),
    };
    this.ui.file.addEventListener("change", () => this.#readFile());
    this.ui.list.addEventListener("input", () => this.#readList());
    this.ui.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#upload();
    });
  }

  // The roll poll shown (changed: another one than before): a closed poll's roll is final, so no form.
  show(poll, changed) {
    this.#poll = poll;
    show(this.ui.form, poll.status !== "closed");
    if (changed && !this.#running) this.#clearOutcome();
  }

  reset() {
    this.#poll = null;
    this.#source = null;
    this.ui.form.reset();
    this.ui.found.textContent = "";
    this.#clearOutcome();
  }

  #clearOutcome() {
    setMessage(this.ui.error, "");
    show(this.ui.progressBox, false);
    show(this.ui.summary, false);
  }

  async #readFile() {
    const file = this.ui.file.files[0];
    this.#source = null;
    if (!file) return this.#describe();
    this.ui.list.value = "";
    try {
      this.#source = { name: `“${file.name}”`, parsed: rollFromCsv(await file.text()) };
    } catch {
      this.#describe();
      return setMessage(this.ui.error, `“${file.name}” could not be read.`, "error");
    }
    this.#describe();
  }

  #readList() {
    if (this.ui.file.value) this.ui.file.value = "";
    const text = this.ui.list.value;
    this.#source = text.trim() ? { name: "the list", parsed: rollFromList(text) } : null;
    this.#describe();
  }

  // What the upload would send, or why the file cannot be sent (said until another file or list is chosen; an
  // upload's refusal stays while the list is corrected).
  #describe() {
    const problems = this.#source?.parsed.problems ?? [];
    if (this.#refused || problems.length) setMessage(this.ui.error, problems.length ? this.#refusal() : "", "error");
    this.#refused = problems.length > 0;
    if (!this.#source || problems.length) {
      this.ui.found.textContent = "";
      return;
    }
    const { name, parsed } = this.#source;
    const column = parsed.column ? `, column “${parsed.column}”` : "";
    const skipped = parsed.skipped.length ? ` (${plural(parsed.skipped.length, "row")} without one skipped)` : "";
    this.ui.found.textContent = `${entries(parsed.entries.length)} in ${name}${column}${skipped}.`;
  }

  #refusal() {
    const { name, parsed } = this.#source;
    return `${problemText(name, parsed.problems)}. Nothing can be sent: correct it and choose it again.`;
  }

  // Why nothing can be sent now, or null.
  #unsendable() {
    if (!this.#source) return "Choose a CSV file or paste a list of usernames or email addresses first.";
    if (this.#source.parsed.problems.length) return this.#refusal();
    return this.#source.parsed.entries.length ? null : "There is no username or email address in it.";
  }

  async #upload() {
    if (this.#running || !this.#poll) return;
    setMessage(this.ui.error, "");
    const refusal = this.#unsendable();
    if (refusal) {
      setMessage(this.ui.error, refusal, "error");
      return (this.#source ? this.ui.list : this.ui.file).focus();
    }
    const poll = this.#poll;
    const list = this.#source.parsed.entries;
    this.#running = true;
    this.#busy(true);
    show(this.ui.summary, false);
    show(this.ui.progressBox, true);
    this.ui.progress.max = list.length;
    this.ui.progress.value = 0;
    this.ui.progressText.textContent = `Sending ${entries(list.length)}…`;
    let outcome;
    try {
      outcome = await uploadRoll(this.#api, poll.poll_id, list, {
        ...batchLimits(this.#limits),
        invite: this.ui.invite.checked,
        onProgress: (sum) => {
          this.ui.progress.value = sum.sent;
          this.ui.progressText.textContent = `Sent ${sum.sent.toLocaleString()} of ${entries(sum.total)}…`;
        },
        onRetry: ({ why, waitMs, batch, batches }) => {
          const reason = why === "busy" ? "The API is busy" : "The connection to the API was lost";
          this.ui.progressText.textContent = `${reason}: sending batch ${batch} of ${batches} again in ` +
            `${Math.max(1, Math.round(waitMs / 1000))} s… (a resend adds no one twice)`;
        },
      });
    } finally {
      this.#running = false;
      this.#busy(false);
    }
    this.#finish(poll, outcome);
    this.#onDone(poll.poll_id, outcome);
  }

  #finish(poll, outcome) {
    this.#summarise(poll, outcome);
    if (outcome.outcome === "done") {
      this.ui.progressText.textContent = `All ${entries(outcome.total)} sent.`;
      this.ui.form.reset();
      this.#source = null;
      this.ui.found.textContent = "";
    } else {
      this.ui.progressText.textContent = `Stopped after ${outcome.sent.toLocaleString()} of ${entries(outcome.total)}.`;
      setMessage(this.ui.error, outcome.message, "error");
    }
  }

  #busy(on) {
    for (const control of [this.ui.submit, this.ui.file, this.ui.list, this.ui.invite]) control.disabled = on;
    this.ui.panel.setAttribute("aria-busy", String(on));
  }

  #summarise(poll, outcome) {
    const done = outcome.outcome === "done";
    this.ui.summaryTitle.textContent = done
      ? `Added to the roll of “${poll.title}”`
      : `Before it stopped (roll of “${poll.title}”)`;
    this.ui.added.textContent = outcome.added.toLocaleString();
    this.ui.already.textContent = outcome.already.toLocaleString();
    this.ui.invited.textContent = outcome.invited.toLocaleString();
    this.ui.unknownCount.textContent = outcome.unknown.length.toLocaleString();
    const unknown = outcome.unknown;
    show(this.ui.unknown, unknown.length > 0);
    this.ui.unknown.open = unknown.length <= UNKNOWN_OPEN_UP_TO;
    const invitable = !this.ui.invite.checked && unknown.some((entry) => entry.includes("@"));
    const invite = " (to invite the email addresses, send them again with “Invite missing accounts by email”)";
    this.ui.unknownSummary.textContent =
      `${entries(unknown.length)} ${unknown.length === 1 ? "names" : "name"} no account${invitable ? invite : ""}`;
    this.ui.unknownList.replaceChildren(...unknown.map((entry) => el("li", {}, entry)));
    show(this.ui.summary, outcome.sent > 0);
  }
}

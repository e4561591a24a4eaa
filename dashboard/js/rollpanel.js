// The dashboard's roll panel, for a selected roll poll: its size, and the upload of voters (a CSV file or a pasted
// list, read here in the browser by roll.js) in batches, with a progress bar and a summary of what the API did.
import { OfflineError, errorMessage } from "./api.js";
import { CHUNK_ENTRIES, rollFromCsv, rollFromList, uploadRoll } from "./roll.js";
import { $, el, plural, setMessage, show } from "./ui.js";

const UNKNOWN_OPEN_UP_TO = 10; // a longer list of unknown entries starts folded

// Entries per request: 250, or ?roll_batch=N (1 to 1,000) in the page's address: the tests make it small. Never
// more than the API takes (GET /config's limits.max_roll_batch, where it says).
function batchSize(limits) {
  const most = limits?.max_roll_batch ?? 1000;
  const n = Number(new URLSearchParams(location.search).get("roll_batch"));
  return Math.min(most, Number.isInteger(n) && n >= 1 && n <= 1000 ? n : CHUNK_ENTRIES);
}

export class RollPanel {
  #api;
  #limits;
  #maxBytes;
  #onAdded;
  #poll = null;
  #source = null; // {name, parsed}: what the upload would send now
  #uploading = null; // the poll id an upload is running for
  #sizeAsked = 0;

  constructor({ api, limits, onAdded = () => {} }) {
    this.#api = api;
    this.#limits = limits;
    // A roll change's body may be larger than other requests' where the API says so (limits.max_roll_body_bytes).
    this.#maxBytes = limits?.max_roll_body_bytes ?? limits?.max_body_bytes ?? undefined;
    this.#onAdded = onAdded;
    this.ui = {
      panel: $("#roll-panel"), title: $("#roll-title"), size: $("#roll-size"), closed: $("#roll-closed"),
      form: $("#roll-form"), file: $("#roll-file"), list: $("#roll-list"), found: $("#roll-found"),
      invite: $("#roll-invite"), submit: $("#roll-submit"), progressBox: $("#roll-progress-box"),
      progress: $("#roll-progress"), progressText: $("#roll-progress-text"), error: $("#roll-error"),
      summary: $("#roll-summary"), summaryTitle: $("#roll-summary-title"), added: $("#roll-added"),
      already: $("#roll-already"), invited: $("#roll-invited"), unknownCount: $("#roll-unknown-count"),
      unknown: $("#roll-unknown"), unknownSummary: $("#roll-unknown-summary"), unknownList: $("#roll-unknown-list"),
    };
    this.ui.file.addEventListener("change", () => this.#readFile());
    this.ui.list.addEventListener("input", () => this.#readList());
    this.ui.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#upload();
    });
  }

  // The selected poll (or null): the panel shows for a roll poll only.
  show(poll) {
    const roll = poll?.electorate === "roll" ? poll : null;
    const changed = roll?.poll_id !== this.#poll?.poll_id;
    this.#poll = roll;
    show(this.ui.panel, Boolean(roll));
    if (!roll) return;
    this.ui.title.textContent = `Roll of “${roll.title}”`;
    const closed = roll.status === "closed";
    show(this.ui.closed, closed);
    show(this.ui.form, !closed);
    if (changed) {
      this.ui.size.textContent = "";
      if (!this.#uploading) this.#clearOutcome();
      this.refreshSize();
    }
  }

  // The roll's size, as the results' turnout gives it (exact, and asked for every second anyway).
  sizeFromResults(pollId, size) {
    if (pollId === this.#poll?.poll_id) this.#showSize(size);
  }

  async refreshSize() {
    const pollId = this.#poll?.poll_id;
    if (!pollId) return;
    const asked = ++this.#sizeAsked;
    try {
      const reply = await this.#api.get(`/polls/${encodeURIComponent(pollId)}/roll`);
      if (asked !== this.#sizeAsked || pollId !== this.#poll?.poll_id) return;
      if (reply.status === 200) this.#showSize(reply.body.size);
      else if (reply.status !== 401) this.ui.size.textContent = `The roll could not be read: ${errorMessage(reply)}`;
    } catch (error) {
      if (!(error instanceof OfflineError)) throw error; // the results feed says the API is away
    }
  }

  reset() {
    this.#poll = null;
    this.#source = null;
    this.ui.form.reset();
    this.ui.found.textContent = "";
    this.#clearOutcome();
    show(this.ui.panel, false);
  }

  #showSize(size) {
    this.ui.size.textContent = `${plural(size, "voter")} on the roll`;
    this.ui.size.dataset.size = String(size);
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
      this.#source = null;
      setMessage(this.ui.error, `“${file.name}” could not be read.`, "error");
    }
    this.#describe();
  }

  #readList() {
    if (this.ui.file.value) this.ui.file.value = "";
    const text = this.ui.list.value;
    this.#source = text.trim() ? { name: "the list", parsed: rollFromList(text) } : null;
    this.#describe();
  }

  #describe() {
    if (!this.#source) {
      this.ui.found.textContent = "";
      return;
    }
    const { name, parsed } = this.#source;
    const column = parsed.header ? `, column “${parsed.header}”` : "";
    const skipped = parsed.skipped ? ` (${plural(parsed.skipped, "row")} without one skipped)` : "";
    this.ui.found.textContent = `${plural(parsed.entries.length, "entry", "entries")} in ${name}${column}${skipped}.`;
  }

  async #upload() {
    if (this.#uploading || !this.#poll) return;
    setMessage(this.ui.error, "");
    const entries = this.#source?.parsed.entries ?? [];
    if (!entries.length) {
      setMessage(this.ui.error, this.#source
        ? "There is no username or email address in it."
        : "Choose a CSV file or paste a list of usernames or email addresses first.", "error");
      return (this.#source ? this.ui.list : this.ui.file).focus();
    }
    const poll = this.#poll;
    this.#uploading = poll.poll_id;
    this.#busy(true);
    show(this.ui.summary, false);
    show(this.ui.progressBox, true);
    this.ui.progress.max = entries.length;
    this.ui.progress.value = 0;
    this.ui.progressText.textContent = `Sending ${plural(entries.length, "entry", "entries")}…`;
    let outcome;
    try {
      outcome = await uploadRoll(this.#api, poll.poll_id, entries, {
        invite: this.ui.invite.checked,
        size: batchSize(this.#limits),
        maxBytes: this.#maxBytes,
        onProgress: (sum) => {
          this.ui.progress.value = sum.sent;
          this.ui.progressText.textContent =
            `Sent ${sum.sent.toLocaleString()} of ${plural(sum.total, "entry", "entries")}…`;
        },
        onRetry: ({ why, waitMs, batch, batches }) => {
          const reason = why === "busy" ? "The API is busy" : "The connection to the API was lost";
          this.ui.progressText.textContent = `${reason}: sending batch ${batch} of ${batches} again in ` +
            `${Math.max(1, Math.round(waitMs / 1000))} s… (a resend adds no one twice)`;
        },
      });
    } finally {
      this.#uploading = null;
      this.#busy(false);
    }
    this.#summarise(poll, outcome);
    if (outcome.outcome === "done") {
      this.ui.progressText.textContent = `All ${plural(outcome.total, "entry", "entries")} sent.`;
      this.ui.form.reset();
      this.#source = null;
      this.ui.found.textContent = "";
    } else {
      this.ui.progressText.textContent =
        `Stopped after ${outcome.sent.toLocaleString()} of ${plural(outcome.total, "entry", "entries")}.`;
      setMessage(this.ui.error, outcome.message, "error");
    }
    if (outcome.sent) this.#onAdded(poll.poll_id, outcome);
    if (poll.poll_id === this.#poll?.poll_id) this.refreshSize();
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
    this.ui.unknownSummary.textContent = `${plural(unknown.length, "entry", "entries")} ` +
      `${unknown.length === 1 ? "names" : "name"} no account` +
      (invitable ? " (to invite the email addresses, send them again with “Invite missing accounts by email”)" : "");
    this.ui.unknownList.replaceChildren(...unknown.map((entry) => el("li", {}, entry)));
    show(this.ui.summary, outcome.sent > 0);
  }
}

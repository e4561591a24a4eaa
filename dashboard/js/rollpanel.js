// The dashboard's roll panel, for a selected roll poll: its size; its members, a page at a time, each of whom can
// be taken off the roll (once asked to confirm) while the poll is not closed; and the upload of voters (a CSV file
// or a pasted list, read here in the browser by roll.js) in batches, with a progress bar and a summary of what the
// API did.
import { OfflineError, errorMessage } from "./api.js";
import { CHUNK_ENTRIES, ROLL_PAGE, readRoll, removeFromRoll, rollFromCsv, rollFromList, uploadRoll } from "./roll.js";
import { $, el, plural, setMessage, show } from "./ui.js";

const UNKNOWN_OPEN_UP_TO = 10; // a longer list of unknown entries starts folded
// After an upload or a removal the list is read again as far as it was shown, but no further than this: a roll
// can be 10,000 long, and "Show more" reads on from there.
const REFRESH_UP_TO = 10 * ROLL_PAGE;

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
  #onChanged;
  #poll = null;
  #closed = false;
  #shrinkable = false;
  #source = null; // {name, parsed}: what the upload would send now
  #uploading = null; // the poll id an upload is running for
  #size = null; // the roll's size, as last heard
  #members = []; // the entries shown, in username order: {username, email, added_on}
  #next = null; // the token of the page after them; null at the roll's end
  #asked = 0; // bumped by each read of the roll from its start: an answer to an older one is dropped
  #confirming = null; // the username whose removal waits for its confirmation
  #removing = null; // the username being taken off
  #confirmIds = 0;

  // onChanged(pollId): the poll's roll grew or shrank, so its turnout moved.
  constructor({ api, limits, onChanged = () => {} }) {
    this.#api = api;
    this.#limits = limits;
    // A roll change's body may be larger than other requests' where the API says so (limits.max_roll_body_bytes).
    this.#maxBytes = limits?.max_roll_body_bytes ?? limits?.max_body_bytes ?? undefined;
    this.#onChanged = onChanged;
    this.ui = {
      panel: $("#roll-panel"), title: $("#roll-title"), size: $("#roll-size"), closed: $("#roll-closed"),
      form: $("#roll-form"), file: $("#roll-file"), list: $("#roll-list"), found: $("#roll-found"),
      invite: $("#roll-invite"), submit: $("#roll-submit"), progressBox: $("#roll-progress-box"),
      progress: $("#roll-progress"), progressText: $("#roll-progress-text"), error: $("#roll-error"),
      summary: $("#roll-summary"), summaryTitle: $("#roll-summary-title"), added: $("#roll-added"),
      already: $("#roll-already"), invited: $("#roll-invited"), unknownCount: $("#roll-unknown-count"),
      unknown: $("#roll-unknown"), unknownSummary: $("#roll-unknown-summary"), unknownList: $("#roll-unknown-list"),
      members: $("#roll-members"), membersSummary: $("#roll-members-summary"), memberList: $("#roll-member-list"),
      membersStatus: $("#roll-members-status"), more: $("#roll-more"), removal: $("#roll-removal"),
    };
    this.ui.more.addEventListener("click", () => this.#more());
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
    // Voters leave a roll only before its poll opens: after that, whether a removal worked would say whether
    // they have voted (docs/security.md), so the API refuses every removal and there are no Remove buttons.
    const shrinkable = roll.status === "scheduled";
    if (changed) {
      this.#closed = closed;
      this.#shrinkable = shrinkable;
      this.ui.size.textContent = "";
      if (!this.#uploading) this.#clearOutcome();
      this.#clearMembers();
      this.refresh();
    } else if (closed !== this.#closed || shrinkable !== this.#shrinkable) {
      this.#closed = closed;
      this.#shrinkable = shrinkable;
      if (!shrinkable) this.#confirming = null;
      this.#renderMembers();
    }
  }

  // The roll's size, as the results' turnout gives it (exact, and asked for every second anyway).
  sizeFromResults(pollId, size) {
    if (pollId === this.#poll?.poll_id) this.#showSize(size);
  }

  // The roll's size and its members from the start, as many as were shown (at least a page, at most
  // REFRESH_UP_TO), read again.
  async refresh() {
    const pollId = this.#poll?.poll_id;
    if (!pollId) return;
    const asked = ++this.#asked;
    const atLeast = Math.min(REFRESH_UP_TO, Math.max(1, this.#members.length));
    let read;
    try {
      read = await readRoll(this.#api, pollId, { atLeast });
    } catch (error) {
      if (!(error instanceof OfflineError)) throw error; // the results feed says the API is away
      return;
    }
    if (asked !== this.#asked || pollId !== this.#poll?.poll_id) return;
    if (!read.ok) {
      if (read.reply.status !== 401) {
        this.ui.size.textContent = `The roll could not be read: ${errorMessage(read.reply)}`;
      }
      return;
    }
    this.#members = read.voters;
    this.#next = read.next;
    setMessage(this.ui.membersStatus, "");
    this.#showSize(read.size);
    this.#renderMembers();
  }

  reset() {
    this.#poll = null;
    this.#source = null;
    this.ui.form.reset();
    this.ui.found.textContent = "";
    this.#clearOutcome();
    this.#clearMembers();
    show(this.ui.panel, false);
  }

  #showSize(size) {
    this.#size = size;
    this.ui.size.textContent = `${plural(size, "voter")} on the roll`;
    this.ui.size.dataset.size = String(size);
    this.#renderCount();
  }

  // ---- the members, and taking one off ---------------------------------------------------------------------

  #clearMembers() {
    this.#asked++;
    this.#size = null;
    this.#members = [];
    this.#next = null;
    this.#confirming = null;
    this.ui.members.open = false;
    setMessage(this.ui.removal, "");
    setMessage(this.ui.membersStatus, "");
    this.#renderMembers();
  }

  #renderMembers() {
    this.ui.memberList.replaceChildren(...this.#members.map((voter) => this.#memberItem(voter)));
    this.#renderCount();
  }

  // "On the roll (6)" on the fold; under the list, how much of it is shown, and "Show more" while there is more.
  #renderCount() {
    const size = this.#size;
    this.ui.membersSummary.textContent = size === null ? "On the roll" : `On the roll (${size.toLocaleString()})`;
    show(this.ui.more, Boolean(this.#next));
    const status = this.ui.membersStatus;
    if (status.dataset.kind === "error" || this.ui.more.disabled) return; // a failed or running "Show more" says so
    const shown = this.#members.length;
    const text = size === null ? ""
      : !shown && !this.#next ? "No one is on the roll yet."
        : this.#next ? `${shown.toLocaleString()} of ${plural(size, "voter")} shown, by username.` : "";
    if (status.textContent !== text) setMessage(status, text); // the results' size comes every second: say once
  }

  #memberItem(voter) {
    const name = voter.username;
    const who = el("span", { class: "roll-member-who" },
      el("span", { class: "roll-member-name" }, name),
      voter.email && voter.email !== name ? el("span", { class: "roll-member-email" }, voter.email) : null,
      el("time", { class: "roll-member-added", datetime: voter.added_on }, `added ${voter.added_on}`));
    let actions = null;
    if (this.#shrinkable && this.#confirming === name) {
      const id = `roll-confirm-${++this.#confirmIds}`;
      actions = el("span", { class: "roll-member-actions confirming" },
        el("span", { class: "confirm-text", id },
          `Take ${name} off the roll? They will not be able to vote in this poll.`),
        el("button", {
          type: "button", class: "button danger small", "aria-describedby": id, dataset: { action: "confirm" },
          disabled: this.#removing === name, onclick: () => this.#remove(name),
        }, `Remove ${name}`),
        el("button", {
          type: "button", class: "button ghost small", dataset: { action: "cancel" },
          disabled: this.#removing === name, onclick: () => this.#confirm(null),
        }, "Cancel"));
    } else if (this.#shrinkable) {
      actions = el("span", { class: "roll-member-actions" }, el("button", {
        type: "button", class: "button ghost small", dataset: { action: "remove" },
        "aria-label": `Remove ${name} from the roll`, onclick: () => this.#confirm(name),
      }, "Remove"));
    }
    return el("li", { class: "roll-member", dataset: { username: name } }, who, actions);
  }

  #itemOf(name) {
    return this.ui.memberList.querySelector(`li[data-username="${CSS.escape(name)}"]`);
  }

  #redraw(name) {
    const voter = this.#members.find((v) => v.username === name);
    const item = this.#itemOf(name);
    if (voter && item) item.replaceWith(this.#memberItem(voter));
  }

  // Ask once before taking someone off (as closing a poll does); null cancels.
  #confirm(name) {
    const before = this.#confirming;
    if (this.#removing) return;
    this.#confirming = name;
    if (before) this.#redraw(before);
    if (name) this.#redraw(name);
    const focus = name ?? before;
    if (focus) this.#itemOf(focus)?.querySelector(`[data-action="${name ? "confirm" : "remove"}"]`)?.focus();
  }

  async #remove(name) {
    if (this.#removing || !this.#poll) return;
    const poll = this.#poll;
    this.#removing = name;
    for (const button of this.#itemOf(name)?.querySelectorAll("button") ?? []) button.disabled = true;
    setMessage(this.ui.removal, `Taking ${name} off the roll…`, "pending");
    let result;
    try {
      result = await removeFromRoll(this.#api, poll.poll_id, name, {
        onRetry: ({ why, waitMs }) => {
          const reason = why === "busy" ? "The API is busy" : "The connection to the API was lost";
          setMessage(this.ui.removal, `${reason}: asking again in ${Math.max(1, Math.round(waitMs / 1000))} s… ` +
            "(asking twice takes no one off twice)", "pending");
        },
      });
    } finally {
      this.#removing = null;
      if (this.#confirming === name) this.#confirming = null;
    }
    if (poll.poll_id !== this.#poll?.poll_id) return;
    setMessage(this.ui.removal, result.message, result.kind);
    if (result.outcome === "removed") this.#onChanged(poll.poll_id);
    const at = this.#members.findIndex((v) => v.username === name);
    // Off the list at once when off the roll (the size follows with the roll read again); otherwise as it was.
    if (at >= 0 && (result.outcome === "removed" || result.outcome === "absent")) this.#members.splice(at, 1);
    this.#renderMembers();
    await this.refresh();
    // Unless the operator has moved on, focus stays in the list: on the same voter (still on the roll), or on the
    // one now in their place.
    const focused = document.activeElement;
    if (focused && focused !== document.body && !this.ui.memberList.contains(focused)) return;
    const item = this.#itemOf(name) ?? this.ui.memberList.children[Math.min(at, this.#members.length - 1)];
    (item?.querySelector("button") ?? this.ui.membersSummary).focus();
  }

  async #more() {
    const pollId = this.#poll?.poll_id;
    const after = this.#next;
    if (!pollId || !after) return;
    const asked = this.#asked;
    this.ui.more.disabled = true;
    setMessage(this.ui.membersStatus, "Reading the next page…");
    let first = null; // where the new entries begin, once they are in
    try {
      const read = await readRoll(this.#api, pollId, { after });
      if (asked !== this.#asked || pollId !== this.#poll?.poll_id) return;
      if (!read.ok) {
        if (read.reply.status !== 401) {
          setMessage(this.ui.membersStatus, `The next page could not be read: ${errorMessage(read.reply)}`, "error");
        }
        return;
      }
      first = this.#members.length;
      this.#members.push(...read.voters);
      this.#next = read.next;
      this.ui.memberList.append(...read.voters.map((voter) => this.#memberItem(voter)));
      setMessage(this.ui.membersStatus, "");
      this.#size = read.size;
    } catch (error) {
      if (!(error instanceof OfflineError)) throw error;
      if (asked === this.#asked) {
        setMessage(this.ui.membersStatus, "The API did not answer: try “Show more” again in a moment.", "error");
      }
    } finally {
      this.ui.more.disabled = false;
      if (this.#size !== null) this.#showSize(this.#size);
    }
    // On to the first of the new entries (the button pressed may have gone: the roll's end is reached).
    if (first !== null) {
      (this.ui.memberList.children[first]?.querySelector("button") ??
        (this.#next ? this.ui.more : this.ui.membersSummary)).focus();
    }
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
    if (outcome.sent) this.#onChanged(poll.poll_id);
    if (poll.poll_id === this.#poll?.poll_id) this.refresh();
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

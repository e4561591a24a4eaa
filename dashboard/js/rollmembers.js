// The roll's members on the roll panel: its size, the members a page at a time (GET /polls/{poll_id}/roll, with
// "Show more" for the next page), and taking one off the roll, once asked to confirm, while the poll has not opened.
import { OfflineError, errorMessage } from "./api.js";
import { ROLL_PAGE, readRoll, removeFromRoll } from "./roll.js";
import { $, el, plural, setMessage, show } from "./ui.js";

// After an upload or a removal the list is read again as far as it was shown, but no further than this: a roll
// can be 10,000 long, and "Show more" reads on from there.
const REFRESH_UP_TO = 10 * ROLL_PAGE;

export class RollMembers {
  #api;
  #onChanged;
  #pollId = null;
  #shrinkable = false;
  #size = null; // the roll's size, as last heard
  #members = []; // the entries shown, in username order: {username, email, added_on}
  #next = null; // the token of the page after them; null at the roll's end
  #asked = 0; // bumped by each read of the roll from its start: an answer to an older one is dropped
  #confirming = null; // the username whose removal waits for its confirmation
  #removing = null; // the username being taken off
  #confirmIds = 0;

  // onChanged(pollId): a voter was taken off the poll's roll.
  constructor({ api, onChanged }) {
    this.#api = api;
    this.#onChanged = onChanged;
    this.ui = {
      size: $("#roll-size"), fold: $("#roll-members"), summary: $("#roll-members-summary"),
      list: $("#roll-member-list"), status: $("#roll-members-status"), more: $("#roll-more"),
      removal: $("#roll-removal"),
    };
    this.ui.more.addEventListener("click", () => this.#more());
  }

  // Another poll (its id, or null), with Remove buttons or not: the list starts afresh (refresh() reads it).
  forPoll(pollId, shrinkable) {
    this.#pollId = pollId;
    this.#shrinkable = shrinkable;
    this.ui.size.textContent = "";
    this.#asked++;
    this.#size = null;
    this.#members = [];
    this.#next = null;
    this.#confirming = null;
    this.ui.fold.open = false;
    setMessage(this.ui.removal, "");
    setMessage(this.ui.status, "");
    this.#render();
  }

  // The same poll, which may have opened since: from then on nobody leaves its roll, and no button says so.
  allowRemoval(shrinkable) {
    if (shrinkable === this.#shrinkable) return;
    this.#shrinkable = shrinkable;
    if (!shrinkable) this.#confirming = null;
    this.#render();
  }

  showSize(size) {
    this.#size = size;
    this.ui.size.textContent = `${plural(size, "voter")} on the roll`;
    this.ui.size.dataset.size = String(size);
    this.#renderCount();
  }

  // The roll's size and its members from the start, as many as were shown (at least a page, at most
  // REFRESH_UP_TO), read again.
  async refresh() {
    const pollId = this.#pollId;
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
    if (asked !== this.#asked || pollId !== this.#pollId) return;
    if (!read.ok) {
      if (read.reply.status !== 401) {
        this.ui.size.textContent = `The roll could not be read: ${errorMessage(read.reply)}`;
      }
      return;
    }
    this.#members = read.voters;
    this.#next = read.next;
    setMessage(this.ui.status, "");
    this.showSize(read.size);
    this.#render();
  }

  #render() {
    this.ui.list.replaceChildren(...this.#members.map((voter) => this.#item(voter)));
    this.#renderCount();
  }

  // "On the roll (6)" on the fold; under the list, how much of it is shown, and "Show more" while there is more.
  #renderCount() {
    const size = this.#size;
    this.ui.summary.textContent = size === null ? "On the roll" : `On the roll (${size.toLocaleString()})`;
    show(this.ui.more, Boolean(this.#next));
    const status = this.ui.status;
    if (status.dataset.kind === "error" || this.ui.more.disabled) return; // a failed or running "Show more" says so
    const shown = this.#members.length;
    const text = size === null ? ""
      : !shown && !this.#next ? "No one is on the roll yet."
        : this.#next ? `${shown.toLocaleString()} of ${plural(size, "voter")} shown, by username.` : "";
    if (status.textContent !== text) setMessage(status, text); // the results' size comes every second: say once
  }

  #item(voter) {
    const name = voter.username;
    const who = el("span", { class: "roll-member-who" },
      el("span", { class: "roll-member-name" }, name),
      voter.email && voter.email !== name ? el("span", { class: "roll-member-email" }, voter.email) : null,
      el("time", { class: "roll-member-added", datetime: voter.added_on }, `added ${voter.added_on}`));
    return el("li", { class: "roll-member", dataset: { username: name } }, who, this.#actions(name));
  }

  // Remove, or, once pressed, the question and its two answers; nothing once the poll has opened.
  #actions(name) {
    if (!this.#shrinkable) return null;
    if (this.#confirming !== name) {
      return el("span", { class: "roll-member-actions" }, el("button", {
        type: "button", class: "button ghost small", dataset: { action: "remove" },
        "aria-label": `Remove ${name} from the roll`, onclick: () => this.#confirm(name),
      }, "Remove"));
    }
    const id = `roll-confirm-${++this.#confirmIds}`;
    return el("span", { class: "roll-member-actions confirming" },
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
  }

  #itemOf(name) {
    return this.ui.list.querySelector(`li[data-username="${CSS.escape(name)}"]`);
  }

  #redraw(name) {
    const voter = this.#members.find((v) => v.username === name);
    const item = this.#itemOf(name);
    if (voter && item) item.replaceWith(this.#item(voter));
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
    if (this.#removing || !this.#pollId) return;
    const pollId = this.#pollId;
    this.#removing = name;
    for (const button of this.#itemOf(name)?.querySelectorAll("button") ?? []) button.disabled = true;
    setMessage(this.ui.removal, `Taking ${name} off the roll…`, "pending");
    let result;
    try {
      result = await removeFromRoll(this.#api, pollId, name, {
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
    if (pollId !== this.#pollId) return;
    setMessage(this.ui.removal, result.message, result.kind);
    if (result.outcome === "removed") this.#onChanged(pollId);
    const at = this.#members.findIndex((v) => v.username === name);
    // Off the list at once when off the roll (the size follows with the roll read again); otherwise as it was.
    if (at >= 0 && (result.outcome === "removed" || result.outcome === "absent")) this.#members.splice(at, 1);
    this.#render();
    await this.refresh();
    this.#focusAfterRemoval(name, at);
  }

  // Unless the operator has moved on, focus stays in the list: on the same voter (still on the roll), or on the
  // one now in their place.
  #focusAfterRemoval(name, at) {
    const focused = document.activeElement;
    if (focused && focused !== document.body && !this.ui.list.contains(focused)) return;
    const item = this.#itemOf(name) ?? this.ui.list.children[Math.min(at, this.#members.length - 1)];
    (item?.querySelector("button") ?? this.ui.summary).focus();
  }

  async #more() {
    const pollId = this.#pollId;
    const after = this.#next;
    if (!pollId || !after) return;
    const asked = this.#asked;
    this.ui.more.disabled = true;
    setMessage(this.ui.status, "Reading the next page…");
    let first = null; // where the new entries begin, once they are in
    try {
      const read = await readRoll(this.#api, pollId, { after });
      if (asked !== this.#asked || pollId !== this.#pollId) return;
      if (!read.ok) {
        if (read.reply.status !== 401) {
          setMessage(this.ui.status, `The next page could not be read: ${errorMessage(read.reply)}`, "error");
        }
        return;
      }
      first = this.#members.length;
      this.#members.push(...read.voters);
      this.#next = read.next;
      this.ui.list.append(...read.voters.map((voter) => this.#item(voter)));
      setMessage(this.ui.status, "");
      this.#size = read.size;
    } catch (error) {
      if (!(error instanceof OfflineError)) throw error;
      if (asked === this.#asked) {
        setMessage(this.ui.status, "The API did not answer: try “Show more” again in a moment.", "error");
      }
    } finally {
      this.ui.more.disabled = false;
      if (this.#size !== null) this.showSize(this.#size);
    }
    // On to the first of the new entries (the button pressed may have gone: the roll's end is reached).
    if (first !== null) {
      (this.ui.list.children[first]?.querySelector("button") ?? (this.#next ? this.ui.more : this.ui.summary)).focus();
    }
  }
}

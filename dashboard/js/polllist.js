// The poll list: every poll, read every 5 s and after each change this page makes, with each poll's actions (open a
// scheduled poll now; close an open one, in a few seconds or at a time given, after a confirmation). It holds which
// poll is selected: the results panel shows that one.
import { OfflineError, errorMessage } from "./api.js";
import { localToInstant } from "./candidates.js";
import { notify } from "./notice.js";
import { $, duration, el, show, when } from "./ui.js";

const EVERY_MS = 5000;
const CLOSE_RECHECK_MS = 1000; // after a poll's closes_at has passed, until the API says it is closed
const CLOSE_RECHECK_FOR_MS = 15_000; // ... for at most this long (a browser clock ahead of the API's)
export const STATUS_WORDS = { open: "Open", scheduled: "Scheduled", closed: "Closed" };

const ui = {
  list: $("#poll-list"),
  empty: $("#polls-empty"),
};

// "Closing at 10:02:03 · closes in 5 s": an open poll whose close is set (by the operator's close, which takes
// effect a few seconds ahead, or from the start). The API calls it open until then.
export function closingText(closesAt, now = Date.now()) {
  const left = Date.parse(closesAt) - now;
  const at = `Closing at ${when(closesAt)}`;
  if (left <= 0) return `${at} · closing now…`;
  return `${at} · closes in ${left < 60_000 ? `${Math.ceil(left / 1000)} s` : duration(left)}`;
}

// What a close did: the API answers with the effective closes_at, a few seconds ahead at the soonest, or the
// sooner close that was set already.
function closedNotice(poll, requested) {
  const left = Date.parse(poll.closes_at) - Date.now();
  const soon = left < 60_000 ? `in ${Math.max(0, Math.ceil(left / 1000))} s` : `in ${duration(left)}`;
  const note = requested && Date.parse(poll.closes_at) < Date.parse(requested)
    ? " It was already set to close sooner, and that stands."
    : requested && Date.parse(poll.closes_at) > Date.parse(requested)
      ? " That is the soonest every server can know of it."
      : "";
  return `“${poll.title}” closes at ${when(poll.closes_at)} (${soon}); votes cast until then count.${note}`;
}

// onSelect(pollId): the selection moved. onDrawn(): the list was drawn again (a poll's title or status may have
// changed). onSelectedChanged(): this page opened or closed the selected poll. onSelectedClosing(): the selected
// poll's closes_at has just passed.
export class PollList {
  polls = [];
  selected = null;
  #signature = "";
  #confirmingClose = null;
  #closeAt = ""; // what the operator typed as a scheduled close, kept across redraws of the list
  #closeRecheckAt = 0;
  #timer = null;
  #inFlight = false;
  #again = false; // a refresh was asked for while one was on its way
  #version = 0; // bumped when this page changes a poll: a list asked for before then is out of date

  constructor({ api, auth, mfa, onSelect, onDrawn, onSelectedChanged, onSelectedClosing }) {
    Object.assign(this, { api, auth, mfa, onSelect, onDrawn, onSelectedChanged, onSelectedClosing });
  }

  byId(id) {
    return this.polls.find((p) => p.poll_id === id);
  }

  // A list asked for before this page created, opened or closed a poll is dropped and asked for again: applied, it
  // would take back the change (a poll just created would vanish, and the selection would move to another poll).
  async refresh() {
    clearTimeout(this.#timer);
    if (this.#inFlight) {
      this.#again = true;
      return;
    }
    this.#inFlight = true;
    this.#again = false;
    const version = this.#version;
    try {
      const reply = await this.api.get("/polls");
      if (version !== this.#version) {
        this.#again = true;
      } else if (reply.status === 200) {
        this.polls = reply.body.polls;
        this.render();
        this.#chooseSelection();
      } else if (reply.status !== 401) {
        notify(`The poll list could not be read: ${errorMessage(reply)}`, "error");
      }
    } catch (error) {
      if (!(error instanceof OfflineError)) throw error;
      // The results feed shows that the API is away; the list is tried again below.
    } finally {
      this.#inFlight = false;
      if (this.auth.signedIn) this.#timer = setTimeout(() => this.refresh(), this.#again ? 0 : EVERY_MS);
    }
  }

  select(pollId) {
    if (this.selected === pollId) return;
    this.selected = pollId;
    history.replaceState(null, "", `#poll=${encodeURIComponent(pollId)}`);
    this.onSelect(pollId);
    this.render(true);
  }

  // A poll this page has just created: first in the list, and selected. The focus goes to it without scrolling:
  // the create form brings the notice and the results into view instead.
  add(poll) {
    this.#version++;
    this.polls = [poll, ...this.polls.filter((p) => p.poll_id !== poll.poll_id)];
    this.render();
    this.select(poll.poll_id);
    this.#focus(`select:${poll.poll_id}`, { preventScroll: true });
    this.refresh();
  }

  // Signed out: nothing, and a list still on its way belongs to the session that ended.
  reset() {
    clearTimeout(this.#timer);
    this.polls = [];
    this.#version++;
    this.selected = null;
    this.#signature = "";
  }

  render(force = false) {
    const signature = JSON.stringify([this.polls, this.selected, this.#confirmingClose]);
    if (!force && signature === this.#signature) return;
    this.#signature = signature;
    const focusKey = document.activeElement?.dataset?.focusKey;
    show(ui.empty, this.polls.length === 0);
    ui.list.replaceChildren(...this.polls.map((poll) => this.#item(poll)));
    // The focused control, drawn again in its place, gets the focus back without scrolling: the page stays where the
    // operator is looking (a new poll's notice and results, just scrolled to, say).
    if (focusKey) this.#focus(focusKey, { preventScroll: true });
    this.onDrawn();
  }

  // Each tick of the page's clock: the closing lines count down, and a close just passed is asked about at once.
  tick(now) {
    for (const line of ui.list.querySelectorAll(".poll-closing")) {
      line.textContent = closingText(line.dataset.closesAt, now);
    }
    this.#recheckAfterClose(now);
  }

  // When an open poll's closes_at has passed, ask the API at once (and again each second, for a while, until it
  // says closed) rather than at the next round of the list: the countdown ends in "Closed", not in a wait.
  #recheckAfterClose(now) {
    if (!this.auth.signedIn || now - this.#closeRecheckAt < CLOSE_RECHECK_MS) return;
    const due = (p) => p.status === "open" && p.closes_at &&
      now >= Date.parse(p.closes_at) && now - Date.parse(p.closes_at) < CLOSE_RECHECK_FOR_MS;
    const overdue = this.polls.filter(due);
    if (!overdue.length) return;
    this.#closeRecheckAt = now;
    this.refresh();
    if (overdue.some((p) => p.poll_id === this.selected)) this.onSelectedClosing();
  }

  #chooseSelection() {
    if (this.selected && this.byId(this.selected)) return;
    const wanted = new URLSearchParams(location.hash.slice(1)).get("poll");
    const choice = this.byId(wanted) ?? this.polls.find((p) => p.status === "open") ?? this.polls[0];
    if (choice) this.select(choice.poll_id);
  }

  #focus(key, options = undefined) {
    ui.list.querySelector(`[data-focus-key="${CSS.escape(key)}"]`)?.focus(options);
  }

  #item(poll) {
    const id = poll.poll_id;
    const selected = id === this.selected;
    const actions = this.#confirmingClose === id ? this.#closeConfirmation(poll) : this.#actions(poll);
    return el("li", { class: "poll-item", dataset: { poll: id }, "aria-current": selected ? "true" : null },
      el("button", {
        type: "button", class: "poll-select", dataset: { focusKey: `select:${id}` },
        "aria-pressed": String(selected), onclick: () => this.select(id),
      },
      el("span", { class: "poll-title" }, poll.title),
      el("span", { class: "poll-meta" },
        `${id} · ${poll.candidates.length} candidates${poll.electorate === "roll" ? " · roll" : ""}`)),
      el("span", { class: "badge", dataset: { status: poll.status } }, STATUS_WORDS[poll.status] ?? poll.status),
      poll.status === "open" && poll.closes_at
        ? el("span", { class: "poll-closing", dataset: { closesAt: poll.closes_at } }, closingText(poll.closes_at))
        : null,
      actions.length ? el("span", { class: "poll-actions" }, actions) : null);
  }

  #actions(poll) {
    const id = poll.poll_id;
    if (poll.status === "open") {
      return [el("button", {
        type: "button", class: "button small", dataset: { focusKey: `close:${id}` },
        "aria-label": `Close poll ${poll.title}`,
        onclick: () => {
          this.#confirmingClose = id;
          this.#closeAt = "";
          this.render();
          this.#focus(`confirm:${id}`);
        },
      }, "Close")];
    }
    if (poll.status === "scheduled") {
      return [el("button", {
        type: "button", class: "button small", dataset: { focusKey: `open:${id}` },
        "aria-label": `Open poll ${poll.title} now`,
        onclick: (e) => this.#transition(id, "open", e.currentTarget),
      }, "Open now")];
    }
    return [];
  }

  // The close's second step: in a few seconds, or at a time given, or not at all.
  #closeConfirmation(poll) {
    const id = poll.poll_id;
    return [
      el("span", { class: "confirm-text", id: `confirm-${id}` },
        "Close voting? It takes effect a few seconds after you confirm (every server must learn of it first), " +
        "and votes cast until then count. A closed poll cannot reopen."),
      el("button", {
        type: "button", class: "button danger small", dataset: { focusKey: `confirm:${id}` },
        "aria-describedby": `confirm-${id}`, "aria-label": `Close poll ${poll.title} in a few seconds`,
        onclick: (e) => this.#transition(id, "close", e.currentTarget),
      }, "Close in a few seconds"),
      el("button", {
        type: "button", class: "button ghost small", dataset: { focusKey: `cancel:${id}` },
        onclick: () => { this.#confirmingClose = null; this.render(); this.#focus(`close:${id}`); },
      }, "Cancel"),
      el("span", { class: "close-at" },
        el("label", { class: "inline", for: `close-at-${id}` }, "or close at"),
        el("input", {
          id: `close-at-${id}`, type: "datetime-local", step: "1", value: this.#closeAt,
          dataset: { focusKey: `close-at:${id}` }, "aria-label": `Scheduled close of poll ${poll.title}, your time`,
          oninput: (e) => { this.#closeAt = e.currentTarget.value; },
        }),
        el("button", {
          type: "button", class: "button danger small", dataset: { focusKey: `close-at-go:${id}` },
          "aria-describedby": `confirm-${id}`, "aria-label": `Close poll ${poll.title} at the time given`,
          onclick: (e) => this.#scheduleClose(id, e.currentTarget),
        }, "Close then")),
    ];
  }

  #scheduleClose(pollId, button) {
    const at = localToInstant(this.#closeAt);
    const field = document.getElementById(`close-at-${pollId}`);
    if (!at) {
      notify(at === null ? "Give the time to close at, or choose “Close in a few seconds”." : "That is not a time.",
        "error");
      return field?.focus();
    }
    if (Date.parse(at) <= Date.now()) {
      notify("The time to close at must be in the future.", "error");
      return field?.focus();
    }
    return this.#transition(pollId, "close", button, { at });
  }

  async #transition(pollId, action, button, body = undefined) {
    button.disabled = true;
    try {
      const reply = await this.api.post(`/polls/${encodeURIComponent(pollId)}/${action}`, body);
      if (reply.status === 200) {
        this.#version++;
        this.#confirmingClose = null;
        this.polls = this.polls.map((p) => (p.poll_id === pollId ? reply.body : p));
        this.render();
        this.#focus(`select:${pollId}`);
        notify(action === "close"
          ? closedNotice(reply.body, body?.at)
          : `“${reply.body.title}” is now ${reply.body.status}.`);
        if (pollId === this.selected) this.onSelectedChanged();
        this.refresh();
      } else if (reply.status !== 401) {
        notify(errorMessage(reply), "error");
        this.mfa.offerIfNeeded(reply);
      }
    } catch (error) {
      if (!(error instanceof OfflineError)) throw error;
      notify("The API did not answer, so nothing changed. Try again in a moment.", "error");
    } finally {
      button.disabled = false;
    }
  }
}

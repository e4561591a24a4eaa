// The operator dashboard: sign in, list/create/open/close polls, and watch one poll's results live.
import { Api, OfflineError, errorMessage } from "./api.js";
import { Auth } from "./auth.js";
import { candidateList, localToInstant } from "./candidates.js";
import { BarsChart, TimelineChart, chartsAvailable, timelineSeries } from "./charts.js";
import { limitsOf, loadConfig } from "./config.js";
import { downloadResults } from "./export.js";
import { copyText, drawQr, joinUrl, onlyHere, spokenUrl } from "./join.js";
import { RollPanel } from "./rollpanel.js";
import { $, age, clockTime, duration, el, percent, setMessage, show, when, wireSignIn } from "./ui.js";

const RESULTS_EVERY_MS = 1000; // while the page is visible
const RESULTS_HIDDEN_EVERY_MS = 5000; // in a background tab
const POLLS_EVERY_MS = 5000;
const BACKOFF_MAX_MS = 8000;
const REQUEST_TIMEOUT_MS = 5000;
const CLOSE_RECHECK_MS = 1000; // after a poll's closes_at has passed, until the API says it is closed
const CLOSE_RECHECK_FOR_MS = 15_000; // ... for at most this long (a browser clock ahead of the API's)
const MAX_PEAK_VOTES_PER_S = 1_000_000;
const OPERATORS = "operators";

const ui = {
  notice: $("#notice"),
  loading: $("#loading"),
  session: $("#session"),
  who: $("#who"),
  signOut: $("#sign-out"),
  signInPanel: $("#sign-in-panel"),
  signInForm: $("#sign-in-form"),
  signInError: $("#sign-in-error"),
  totpForm: $("#totp-form"),
  totpError: $("#totp-error"),
  totpCancel: $("#totp-cancel"),
  mfaPanel: $("#mfa-panel"),
  mfaStatus: $("#mfa-status"),
  mfaStart: $("#mfa-start"),
  mfaSteps: $("#mfa-steps"),
  mfaSecret: $("#mfa-secret"),
  mfaLink: $("#mfa-link"),
  mfaUri: $("#mfa-uri"),
  mfaForm: $("#mfa-form"),
  mfaCancel: $("#mfa-cancel"),
  mfaError: $("#mfa-error"),
  app: $("#app"),
  pollList: $("#poll-list"),
  pollsEmpty: $("#polls-empty"),
  createForm: $("#create-form"),
  createError: $("#create-error"),
  createIds: $("#create-candidates-ids"),
  resultsPollId: $("#results-poll-id"),
  resultsTitle: $("#results-title"),
  resultsStatus: $("#results-status"),
  countdown: $("#countdown"),
  connection: $("#connection"),
  freshness: $("#freshness"),
  sourceNote: $("#source-note"),
  resultsMessage: $("#results-message"),
  resultsBody: $("#results-body"),
  total: $("#total"),
  totalLabel: $("#total-label"),
  turnout: $("#turnout"),
  turnoutShare: $("#turnout-share"),
  turnoutFigures: $("#turnout-figures"),
  exportCsv: $("#export-csv"),
  join: $("#join"),
  joinQr: $("#join-qr"),
  joinLink: $("#join-link"),
  joinLocal: $("#join-local"),
  joinCopy: $("#join-copy"),
  joinCopied: $("#join-copied"),
  screenOpen: $("#screen-open"),
  screenNote: $("#join-screen-note"),
  counts: $("#counts tbody"),
  barsAndTable: $(".bars-and-table"),
  timelineCaption: $("#timeline-caption"),
  timelineSeconds: $("#timeline-seconds"),
  timelineMinutes: $("#timeline-minutes"),
};

const state = {
  api: null,
  limits: null, // the API's rules for a poll (GET /config), checked before sending
  auth: null,
  polls: [],
  pollsSignature: "",
  selected: null,
  confirmingClose: null,
  closeAt: "", // what the operator typed as a scheduled close, kept across redraws of the list
  closeRecheckAt: 0,
  results: null,
  resultsText: "",
  timelineScale: "seconds",
  connection: { state: "idle" },
  lastAnswer: 0,
  pollsTimer: null,
  pollsInFlight: false,
  pollsAgain: false, // a refresh was asked for while one was on its way
  pollsVersion: 0, // bumped when this page changes a poll: a list asked for before then is out of date
  charts: null,
  signInForms: null,
  roll: null, // the roll panel (rollpanel.js), for a selected roll poll
  mfa: null, // this operator's authenticator app: null (not known yet), "on" or "off"
};

let noticeTimer = null;
function notify(text, kind = "ok") {
  clearTimeout(noticeTimer);
  setMessage(ui.notice, text, kind);
  if (kind === "ok") noticeTimer = setTimeout(() => setMessage(ui.notice, ""), 8000);
}

// ---- results: one request a second, conditional, with backoff while the API is away -------------------------

class ResultsFeed {
  #generation = 0;
  #timer = null;
  #controller = null;
  #failures = 0;
  #inFlight = false;
  #kickAfter = false;
  pollId = null;

  start(pollId) {
    this.stop();
    this.pollId = pollId;
    this.#failures = 0;
    this.#run(this.#generation);
  }

  stop() {
    this.#generation++;
    clearTimeout(this.#timer);
    this.#controller?.abort();
    this.#inFlight = false;
    this.#kickAfter = false;
    this.pollId = null;
  }

  // Ask now rather than at the next tick (after an action, or when the tab comes back).
  kick() {
    if (this.pollId === null) return;
    if (this.#inFlight) {
      this.#kickAfter = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#run(this.#generation);
  }

  async #run(generation) {
    const started = performance.now();
    let delay = document.hidden ? RESULTS_HIDDEN_EVERY_MS : RESULTS_EVERY_MS;
    this.#inFlight = true;
    this.#controller = new AbortController();
    const timeout = setTimeout(() => this.#controller.abort(new DOMException("No answer in time", "TimeoutError")),
      REQUEST_TIMEOUT_MS);
    try {
      const reply = await state.api.get(`/polls/${encodeURIComponent(this.pollId)}/results`,
        { signal: this.#controller.signal }); // conditional: see Api.request
      if (generation !== this.#generation) return;
      if (reply.status === 429 || reply.status >= 500) throw new OfflineError(errorMessage(reply));
      this.#failures = 0;
      if (reply.status === 200) {
        onResults(reply);
      } else if (reply.status === 401 && !state.auth.signedIn) {
        return; // the session is over; signing out has stopped this feed
      } else {
        onResultsRefused(reply);
        delay = RESULTS_HIDDEN_EVERY_MS;
      }
    } catch (error) {
      if (generation !== this.#generation || error.name === "AbortError") return;
      this.#failures++;
      delay = Math.min(RESULTS_EVERY_MS * 2 ** (this.#failures - 1), BACKOFF_MAX_MS) * (0.85 + Math.random() * 0.3);
      setConnection({ state: "reconnecting", nextTryAt: Date.now() + delay, failures: this.#failures });
    } finally {
      clearTimeout(timeout);
      if (generation === this.#generation) this.#inFlight = false;
    }
    if (generation !== this.#generation) return;
    if (this.#kickAfter) {
      this.#kickAfter = false;
      delay = 0;
    } else if (this.#failures === 0) {
      delay = Math.max(0, delay - (performance.now() - started)); // a steady rate, whatever the latency
    }
    this.#timer = setTimeout(() => this.#run(generation), delay);
  }
}

const feed = new ResultsFeed();

function setConnection(connection) {
  state.connection = connection;
  renderClock();
}

function onResults(reply) {
  state.lastAnswer = Date.now();
  setMessage(ui.resultsMessage, "");
  if (state.connection.state !== "live") setConnection({ state: "live" });
  if (reply.text !== state.resultsText) {
    // A 304 from the API reaches us as the held 200 with the same text: nothing to redraw.
    state.resultsText = reply.text;
    state.results = reply.body;
    renderResults();
  }
  renderTimeline();
  renderClock();
}

function onResultsRefused(reply) {
  state.lastAnswer = Date.now();
  setConnection({ state: "refused" });
  setMessage(ui.resultsMessage, errorMessage(reply), "error");
  if (reply.status === 403 || reply.status === 404) {
    state.results = null;
    state.resultsText = "";
    show(ui.resultsBody, false);
  }
}

// ---- polls -----------------------------------------------------------------------------------------------

const pollById = (id) => state.polls.find((p) => p.poll_id === id);

// A list asked for before this page created, opened or closed a poll is dropped and asked for again: applied, it
// would take back the change (a poll just created would vanish, and the selection would move to another poll).
async function refreshPolls() {
  clearTimeout(state.pollsTimer);
  if (state.pollsInFlight) {
    state.pollsAgain = true;
    return;
  }
  state.pollsInFlight = true;
  state.pollsAgain = false;
  const version = state.pollsVersion;
  try {
    const reply = await state.api.get("/polls");
    if (version !== state.pollsVersion) {
      state.pollsAgain = true;
    } else if (reply.status === 200) {
      state.polls = reply.body.polls;
      renderPolls();
      chooseSelection();
    } else if (reply.status !== 401) {
      notify(`The poll list could not be read: ${errorMessage(reply)}`, "error");
    }
  } catch (error) {
    if (!(error instanceof OfflineError)) throw error;
    // The results feed shows that the API is away; the list is tried again below.
  } finally {
    state.pollsInFlight = false;
    if (state.auth.signedIn) state.pollsTimer = setTimeout(refreshPolls, state.pollsAgain ? 0 : POLLS_EVERY_MS);
  }
}

function chooseSelection() {
  if (state.selected && pollById(state.selected)) return;
  const wanted = new URLSearchParams(location.hash.slice(1)).get("poll");
  const choice = pollById(wanted) ?? state.polls.find((p) => p.status === "open") ?? state.polls[0];
  if (choice) select(choice.poll_id);
}

function select(pollId) {
  if (state.selected === pollId && feed.pollId === pollId) return;
  state.selected = pollId;
  history.replaceState(null, "", `#poll=${encodeURIComponent(pollId)}`);
  state.results = null;
  state.resultsText = "";
  setMessage(ui.resultsMessage, "");
  show(ui.resultsBody, false);
  show(ui.exportCsv, true);
  setConnection({ state: "connecting" });
  renderPolls(true);
  renderHeading();
  feed.start(pollId);
}

const STATUS_WORDS = { open: "Open", scheduled: "Scheduled", closed: "Closed" };

function renderPolls(force = false) {
  const signature = JSON.stringify([state.polls, state.selected, state.confirmingClose]);
  if (!force && signature === state.pollsSignature) return;
  state.pollsSignature = signature;
  const focusKey = document.activeElement?.dataset?.focusKey;
  show(ui.pollsEmpty, state.polls.length === 0);
  ui.pollList.replaceChildren(...state.polls.map(pollItem));
  // The focused control, drawn again in its place, gets the focus back without scrolling: the page stays where the
  // operator is looking (a new poll's notice and results, just scrolled to, say).
  if (focusKey) ui.pollList.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`)?.focus({ preventScroll: true });
  renderHeading();
}

function pollItem(poll) {
  const id = poll.poll_id;
  const selected = id === state.selected;
  const actions = [];
  if (state.confirmingClose === id) {
    actions.push(
      el("span", { class: "confirm-text", id: `confirm-${id}` },
        "Close voting? It takes effect a few seconds after you confirm (every server must learn of it first), " +
        "and votes cast until then count. A closed poll cannot reopen."),
      el("button", {
        type: "button", class: "button danger small", dataset: { focusKey: `confirm:${id}` },
        "aria-describedby": `confirm-${id}`, "aria-label": `Close poll ${poll.title} in a few seconds`,
        onclick: (e) => transition(id, "close", e.currentTarget),
      }, "Close in a few seconds"),
      el("button", {
        type: "button", class: "button ghost small", dataset: { focusKey: `cancel:${id}` },
        onclick: () => { state.confirmingClose = null; renderPolls(); focusKeyed(`close:${id}`); },
      }, "Cancel"),
      el("span", { class: "close-at" },
        el("label", { class: "inline", for: `close-at-${id}` }, "or close at"),
        el("input", {
          id: `close-at-${id}`, type: "datetime-local", step: "1", value: state.closeAt,
          dataset: { focusKey: `close-at:${id}` }, "aria-label": `Scheduled close of poll ${poll.title}, your time`,
          oninput: (e) => { state.closeAt = e.currentTarget.value; },
        }),
        el("button", {
          type: "button", class: "button danger small", dataset: { focusKey: `close-at-go:${id}` },
          "aria-describedby": `confirm-${id}`, "aria-label": `Close poll ${poll.title} at the time given`,
          onclick: (e) => scheduleClose(id, e.currentTarget),
        }, "Close then")),
    );
  } else if (poll.status === "open") {
    actions.push(el("button", {
      type: "button", class: "button small", dataset: { focusKey: `close:${id}` },
      "aria-label": `Close poll ${poll.title}`,
      onclick: () => {
        state.confirmingClose = id;
        state.closeAt = "";
        renderPolls();
        focusKeyed(`confirm:${id}`);
      },
    }, "Close"));
  } else if (poll.status === "scheduled") {
    actions.push(el("button", {
      type: "button", class: "button small", dataset: { focusKey: `open:${id}` },
      "aria-label": `Open poll ${poll.title} now`,
      onclick: (e) => transition(id, "open", e.currentTarget),
    }, "Open now"));
  }
  return el("li", { class: "poll-item", dataset: { poll: id }, "aria-current": selected ? "true" : null },
    el("button", {
      type: "button", class: "poll-select", dataset: { focusKey: `select:${id}` },
      "aria-pressed": String(selected), onclick: () => select(id),
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

// "Closing at 10:02:03 · closes in 5 s": an open poll whose close is set (by the operator's close, which takes
// effect a few seconds ahead, or from the start). The API calls it open until then.
function closingText(closesAt, now = Date.now()) {
  const left = Date.parse(closesAt) - now;
  const at = `Closing at ${when(closesAt)}`;
  if (left <= 0) return `${at} · closing now…`;
  return `${at} · closes in ${left < 60_000 ? `${Math.ceil(left / 1000)} s` : duration(left)}`;
}

function focusKeyed(key) {
  ui.pollList.querySelector(`[data-focus-key="${CSS.escape(key)}"]`)?.focus();
}

async function transition(pollId, action, button, body = undefined) {
  button.disabled = true;
  try {
    const reply = await state.api.post(`/polls/${encodeURIComponent(pollId)}/${action}`, body);
    if (reply.status === 200) {
      state.pollsVersion++;
      state.confirmingClose = null;
      state.polls = state.polls.map((p) => (p.poll_id === pollId ? reply.body : p));
      renderPolls();
      focusKeyed(`select:${pollId}`);
      notify(action === "close"
        ? closedNotice(reply.body, body?.at)
        : `“${reply.body.title}” is now ${reply.body.status}.`);
      if (pollId === state.selected) feed.kick();
      refreshPolls();
    } else if (reply.status !== 401) {
      notify(errorMessage(reply), "error");
      if (needsMfa(reply)) offerMfa(errorMessage(reply));
    }
  } catch (error) {
    if (!(error instanceof OfflineError)) throw error;
    notify("The API did not answer, so nothing changed. Try again in a moment.", "error");
  } finally {
    button.disabled = false;
  }
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

function scheduleClose(pollId, button) {
  const at = localToInstant(state.closeAt);
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
  return transition(pollId, "close", button, { at });
}

// ---- create ----------------------------------------------------------------------------------------------

function showCandidateIds() {
  const candidates = candidateList(ui.createForm.elements.candidates.value, state.limits.max_label);
  ui.createIds.textContent = candidates.length ? `Ids: ${candidates.map((c) => c.id).join(", ")}` : "";
}

async function createPoll(event) {
  event.preventDefault();
  const form = ui.createForm.elements;
  const fail = (message, field) => {
    setMessage(ui.createError, message, "error");
    field?.focus();
  };
  setMessage(ui.createError, "");
  const title = form.title.value.trim();
  if (!title) return fail("Give the poll a title.", form.title);
  const { min_candidates: fewest, max_candidates: most, id_pattern: idPattern, reserved_ids: reserved } = state.limits;
  const candidates = candidateList(form.candidates.value, state.limits.max_label);
  if (candidates.length < fewest || candidates.length > most) {
    return fail(`List ${fewest} to ${most} candidates, one per line.`, form.candidates);
  }
  const taken = candidates.find((c) => reserved.includes(c.id));
  if (taken) return fail(`A candidate cannot be called “${taken.id}”: the API uses that word.`, form.candidates);
  const body = { title, candidates, results: form.results.value || "live" };
  if (form.electorate.value === "roll") body.electorate = "roll"; // "open" is the API's default
  const pollId = form.poll_id.value.trim();
  if (pollId) {
    if (!new RegExp(idPattern).test(pollId)) {
      return fail("A poll id is 1 to 63 lowercase letters, digits and hyphens, starting with a letter or digit.",
        form.poll_id);
    }
    body.poll_id = pollId;
  }
  const opensAt = localToInstant(form.opens_at.value);
  const closesAt = localToInstant(form.closes_at.value);
  if (opensAt === undefined) return fail("“Opens at” is not a date and time.", form.opens_at);
  if (closesAt === undefined) return fail("“Closes at” is not a date and time.", form.closes_at);
  if (closesAt && Date.parse(closesAt) <= Date.now()) return fail("“Closes at” must be in the future.", form.closes_at);
  if (opensAt && closesAt && closesAt <= opensAt) return fail("“Closes at” must be after “Opens at”.", form.closes_at);
  if (opensAt) body.opens_at = opensAt;
  if (closesAt) body.closes_at = closesAt;
  const peakField = form.expected_peak_votes_per_s;
  if (peakField.value || peakField.validity.badInput) {
    const peak = Number(peakField.value);
    if (!Number.isInteger(peak) || peak < 1 || peak > MAX_PEAK_VOTES_PER_S) {
      return fail(`“Expected peak votes/s” is a whole number from 1 to ${MAX_PEAK_VOTES_PER_S.toLocaleString()}.`,
        peakField);
    }
    body.expected_peak_votes_per_s = peak;
  }

  const submit = $("#create-submit");
  submit.disabled = true;
  try {
    const reply = await state.api.post("/polls", body);
    if (reply.status === 201) {
      state.pollsVersion++;
      ui.createForm.reset();
      showCandidateIds();
      notify(`Created “${reply.body.title}” (id ${reply.body.poll_id}), ${reply.body.status}.` +
        (reply.body.electorate === "roll" ? " Only the voters on its roll can vote: add them under “Roll”." : ""));
      state.polls = [reply.body, ...state.polls.filter((p) => p.poll_id !== reply.body.poll_id)];
      renderPolls();
      select(reply.body.poll_id);
      showCreated(reply.body.poll_id);
      refreshPolls();
    } else if (reply.status !== 401) {
      fail(errorMessage(reply));
      if (needsMfa(reply)) offerMfa(errorMessage(reply));
    }
  } catch (error) {
    if (!(error instanceof OfflineError)) throw error;
    fail("The API did not answer, so no poll was created. Try again in a moment.");
  } finally {
    submit.disabled = false;
  }
}

// The form is the last thing on a phone's page: the new poll, its notice and its join link are at the top. Bring
// them into view, and the focus to the new poll in the list (without a second scroll).
function showCreated(pollId) {
  const reduced = matchMedia("(prefers-reduced-motion: reduce)").matches;
  ui.pollList.querySelector(`[data-focus-key="${CSS.escape(`select:${pollId}`)}"]`)?.focus({ preventScroll: true });
  ui.notice.scrollIntoView({ block: "start", behavior: reduced ? "auto" : "smooth" });
}

// ---- rendering -------------------------------------------------------------------------------------------

function renderHeading() {
  const poll = pollById(state.selected);
  ui.resultsTitle.textContent = poll?.title ?? (state.selected ? state.selected : "Choose a poll");
  ui.resultsPollId.textContent = state.selected ? `Poll ${state.selected}` : "";
  const status = state.results?.status ?? poll?.status;
  show(ui.resultsStatus, Boolean(status));
  ui.resultsStatus.textContent = STATUS_WORDS[status] ?? status ?? "";
  ui.resultsStatus.dataset.status = status ?? "";
  state.roll?.show(poll ?? null);
  renderJoin(poll);
}

// The selected poll's way in for voters: its vote page's link, as text to copy and as a QR code to show; and its
// audience screen, which shows what the public document does (so nothing, for a poll whose results are for
// operators only).
function renderJoin(poll) {
  const pollId = state.selected;
  show(ui.join, Boolean(pollId));
  if (!pollId) return;
  if (ui.join.dataset.poll !== pollId) {
    ui.join.dataset.poll = pollId;
    const link = joinUrl(pollId);
    ui.joinLink.href = link;
    ui.joinLink.textContent = spokenUrl(link);
    show(ui.joinLocal, onlyHere(link));
    ui.screenOpen.href = `screen.html?poll=${encodeURIComponent(pollId)}`;
    setMessage(ui.joinCopied, "");
    show(ui.joinQr, false);
    drawQr(ui.joinQr, link).then((drawn) => show(ui.joinQr, drawn && ui.join.dataset.poll === pollId));
  }
  ui.screenNote.textContent = poll?.results === "operators"
    ? "Its results are for operators only: the audience screen shows the question and the QR code, never the bars."
    : poll?.results === "after_close" ? "The audience screen shows its results once it closes." : "";
}

async function copyJoinLink() {
  const copied = await copyText(ui.joinLink.href, ui.joinLink);
  setMessage(ui.joinCopied, copied ? "Copied." : "Selected: copy it with Ctrl+C (⌘C on a Mac).", copied ? "ok" : "");
}

function renderResults() {
  const results = state.results;
  if (!results) return;
  const poll = pollById(results.poll_id);
  if (poll && poll.status !== results.status) refreshPolls(); // e.g. closes_at has passed
  renderHeading();
  show(ui.resultsBody, true);
  show(ui.sourceNote, results.source === "tallies");
  ui.total.textContent = results.total.toLocaleString();
  ui.totalLabel.textContent = results.total === 1 ? "vote" : "votes";
  renderTurnout(results);
  const leader = Math.max(...results.candidates.map((c) => c.votes));
  ui.barsAndTable.dataset.layout = results.candidates.length > 6 ||
    results.candidates.some((c) => c.label.length > 24) ? "stacked" : "side";
  ui.counts.replaceChildren(...results.candidates.map((c) => el("tr", {
    dataset: { candidate: c.id }, class: c.votes > 0 && c.votes === leader ? "leading" : null,
  },
  el("th", { scope: "row" }, c.label),
  el("td", { class: "num votes" }, c.votes.toLocaleString()),
  el("td", { class: "num share" }, percent(c.share)))));
  state.charts?.bars.update(results.candidates);
}

// A roll poll's turnout: "Turnout 50% · 2 of 4 voters on the roll have voted".
function renderTurnout(results) {
  const turnout = results.turnout;
  show(ui.turnout, Boolean(turnout));
  if (!turnout) return;
  ui.turnoutShare.textContent = turnout.roll ? percent(turnout.cast / turnout.roll) : "–";
  ui.turnoutFigures.textContent = `· ${turnout.cast.toLocaleString()} of ${turnout.roll.toLocaleString()} ` +
    `${turnout.roll === 1 ? "voter" : "voters"} on the roll ${turnout.cast === 1 ? "has" : "have"} voted`;
  ui.turnout.dataset.cast = String(turnout.cast);
  ui.turnout.dataset.roll = String(turnout.roll);
  state.roll?.sizeFromResults(results.poll_id, turnout.roll);
}

async function exportResults() {
  const pollId = state.selected;
  if (!pollId) return;
  ui.exportCsv.disabled = true;
  try {
    const problem = await downloadResults(state.api, pollId);
    if (problem) notify(problem, "error");
  } finally {
    ui.exportCsv.disabled = false;
  }
}

function renderTimeline() {
  if (!state.results || !state.charts) return;
  const open = state.results.status === "open";
  const points = timelineSeries(state.results.timeline, state.timelineScale, { open });
  state.charts.timeline.update(points, state.timelineScale);
}

function setTimelineScale(scale) {
  state.timelineScale = scale;
  ui.timelineSeconds.setAttribute("aria-pressed", String(scale === "seconds"));
  ui.timelineMinutes.setAttribute("aria-pressed", String(scale === "minutes"));
  ui.timelineCaption.textContent = scale === "seconds"
    ? "Votes per second, last 5 minutes"
    : "Votes per minute, since the poll opened";
  renderTimeline();
}

// Everything that moves with the clock: the countdown, the connection line, the age of the counts.
function renderClock() {
  const now = Date.now();
  const poll = pollById(state.selected);
  const status = state.results?.status ?? poll?.status;
  let countdown = "";
  if (status === "open" && poll?.closes_at) {
    countdown = closingText(poll.closes_at, now);
  } else if (status === "open") {
    countdown = "Open until closed by hand";
  } else if (status === "scheduled" && poll?.opens_at) {
    const left = Date.parse(poll.opens_at) - now;
    countdown = left > 0 ? `Opens in ${duration(left)}` : "Opening…";
  } else if (status === "closed") {
    countdown = poll?.closes_at ? `Closed at ${when(poll.closes_at)}` : "Closed";
  }
  ui.countdown.textContent = countdown;
  for (const line of ui.pollList.querySelectorAll(".poll-closing")) {
    line.textContent = closingText(line.dataset.closesAt, now);
  }
  recheckAfterClose(now);

  const c = state.connection;
  ui.connection.dataset.state = c.state;
  if (c.state === "live") {
    ui.connection.textContent = `Live · checked ${age(now - state.lastAnswer)}`;
  } else if (c.state === "reconnecting") {
    const wait = Math.max(0, Math.ceil((c.nextTryAt - now) / 1000));
    const since = state.lastAnswer ? `; last answer ${age(now - state.lastAnswer)}` : "";
    ui.connection.textContent = `Reconnecting… the API is not answering (next try in ${wait} s${since})`;
  } else if (c.state === "connecting") {
    ui.connection.textContent = "Connecting…";
  } else {
    ui.connection.textContent = "";
  }

  const results = state.results;
  if (results && results.total > 0) {
    ui.freshness.textContent = `Counts as of ${clockTime(results.as_of)} (${age(now - Date.parse(results.as_of))})` +
      (results.source === "tallies" ? " · from the exact counters" : "");
  } else {
    ui.freshness.textContent = results ? "No votes yet" : "";
  }
}

// When an open poll's closes_at has passed, ask the API at once (and again each second, for a while, until it
// says closed) rather than at the next round of the list: the countdown ends in "Closed", not in a wait.
function recheckAfterClose(now) {
  if (!state.auth?.signedIn || now - state.closeRecheckAt < CLOSE_RECHECK_MS) return;
  const due = (p) => p.status === "open" && p.closes_at &&
    now >= Date.parse(p.closes_at) && now - Date.parse(p.closes_at) < CLOSE_RECHECK_FOR_MS;
  const overdue = state.polls.filter(due);
  if (!overdue.length) return;
  state.closeRecheckAt = now;
  refreshPolls();
  if (overdue.some((p) => p.poll_id === state.selected) && state.results?.status === "open") feed.kick();
}

// ---- an operator's authenticator app (TOTP MFA) ---------------------------------------------------------------
// An operator without one is offered the set-up after signing in; where the stage requires it (TALLY_OPERATOR_MFA),
// the API refuses to create, open or close polls until it is done, and the page leads there. The API asks the
// user pool at each operator request, so the next try after the set-up goes through.

const needsMfa = (reply) => reply.status === 403 && /\bMFA\b|authenticator app/.test(errorMessage(reply));

async function checkMfa() {
  try {
    state.mfa = (await state.auth.totpEnabled()) ? "on" : "off";
  } catch {
    return; // Cognito out of reach: the API's refusal still leads here if the stage requires it
  }
  if (state.mfa === "off" && ui.mfaPanel.hidden) {
    showMfa("This operator account has no second factor yet. Set up an authenticator app, and signing in will " +
      "ask for its 6-digit code as well as the password.");
  }
}

function showMfa(text, kind = "") {
  show(ui.mfaPanel, true);
  show(ui.mfaStart, ui.mfaSteps.hidden);
  setMessage(ui.mfaStatus, text, kind);
}

function offerMfa(apiMessage) {
  state.mfa = "off";
  showMfa(`${apiMessage} It takes a minute: start below.`, "error");
  ui.mfaPanel.scrollIntoView({ block: "nearest" });
  (ui.mfaSteps.hidden ? ui.mfaStart : ui.mfaForm.elements.code).focus();
}

async function startMfa() {
  ui.mfaStart.disabled = true;
  setMessage(ui.mfaError, "");
  try {
    const { secret, uri } = await state.auth.startTotpSetup();
    ui.mfaSecret.textContent = secret;
    ui.mfaUri.textContent = uri;
    ui.mfaLink.href = uri;
    ui.mfaForm.reset();
    show(ui.mfaSteps, true);
    show(ui.mfaStart, false);
    ui.mfaForm.elements.code.focus();
  } catch (error) {
    setMessage(ui.mfaError, error.message, "error");
  } finally {
    ui.mfaStart.disabled = false;
  }
}

async function finishMfa(event) {
  event.preventDefault();
  const field = ui.mfaForm.elements.code;
  const code = field.value.replace(/\s+/g, "");
  if (!/^\d{6}$/.test(code)) {
    setMessage(ui.mfaError, "Enter the 6 digits the authenticator app shows.", "error");
    return field.focus();
  }
  const verify = $("#mfa-verify");
  verify.disabled = true;
  setMessage(ui.mfaError, "Checking the code…");
  try {
    await state.auth.finishTotpSetup(code);
    state.mfa = "on";
    setMessage(ui.mfaError, "");
    closeMfaSteps();
    show(ui.mfaStart, false);
    setMessage(ui.mfaStatus, "The authenticator app is on: from now on, signing in asks for its code. You can " +
      "create, open and close polls.", "ok");
    notify("Authenticator app set up.");
  } catch (error) {
    setMessage(ui.mfaError, error.message, "error");
    field.select();
  } finally {
    verify.disabled = false;
  }
}

function closeMfaSteps() {
  show(ui.mfaSteps, false);
  ui.mfaSecret.textContent = "";
  ui.mfaUri.textContent = "";
  ui.mfaLink.href = "#";
  ui.mfaForm.reset();
}

function resetMfa() {
  state.mfa = null;
  closeMfaSteps();
  setMessage(ui.mfaError, "");
  show(ui.mfaPanel, false);
}

// ---- session ---------------------------------------------------------------------------------------------

function renderSession(reason = "") {
  const signedIn = state.auth.signedIn;
  show(ui.loading, false);
  show(ui.signInPanel, !signedIn);
  show(ui.app, signedIn);
  show(ui.session, signedIn);
  if (signedIn) {
    ui.who.textContent = state.auth.username;
    if (!state.auth.groups.includes(OPERATORS)) {
      notify(`${state.auth.username} is not in the operators group: results of live polls only; creating, ` +
        "opening and closing polls will be refused.", "warn");
    } else if (state.mfa === null) {
      checkMfa();
    }
    if (!state.charts && chartsAvailable()) {
      state.charts = { bars: new BarsChart($("#bars-chart")), timeline: new TimelineChart($("#timeline-chart")) };
    } else if (!chartsAvailable()) {
      notify("The chart library did not load (dashboard/vendor/ is built by `make dashboard`); figures only.", "error");
    }
    refreshPolls();
  } else {
    feed.stop();
    clearTimeout(state.pollsTimer);
    state.polls = [];
    state.pollsVersion++; // a list on its way belongs to the session that ended
    state.selected = null;
    state.results = null;
    state.resultsText = "";
    state.pollsSignature = "";
    state.roll?.reset();
    show(ui.exportCsv, false);
    setConnection({ state: "idle" });
    resetMfa();
    state.signInForms.reset();
    setMessage(ui.signInError, reason, "info");
    $("#sign-in-username").focus();
  }
}

async function main() {
  const config = await loadConfig((delay, reason) => {
    setMessage(ui.loading, `Waiting for the stack: ${reason}. Trying again in ${Math.ceil(delay / 1000)} s…`);
  });
  state.limits = await limitsOf(config);
  state.auth = new Auth(config, "tally.dashboard.session");
  state.api = new Api(config.apiUrl, state.auth);
  state.roll = new RollPanel({
    api: state.api,
    limits: state.limits,
    onChanged: (pollId) => {
      if (pollId === state.selected) feed.kick(); // the turnout's roll has moved
    },
  });
  state.auth.addEventListener("change", (event) => renderSession(event.detail.reason));

  state.signInForms = wireSignIn(state.auth, {
    form: ui.signInForm, error: ui.signInError, totpForm: ui.totpForm, totpError: ui.totpError,
    totpCancel: ui.totpCancel,
  });
  ui.mfaStart.addEventListener("click", startMfa);
  ui.mfaForm.addEventListener("submit", finishMfa);
  ui.mfaCancel.addEventListener("click", () => {
    closeMfaSteps();
    setMessage(ui.mfaError, "");
    show(ui.mfaStart, true);
  });
  ui.signOut.addEventListener("click", () => state.auth.signOut("You have signed out."));
  ui.joinCopy.addEventListener("click", copyJoinLink);
  ui.createForm.addEventListener("submit", createPoll);
  ui.exportCsv.addEventListener("click", exportResults);
  ui.createForm.elements.candidates.addEventListener("input", showCandidateIds);
  ui.timelineSeconds.addEventListener("click", () => setTimelineScale("seconds"));
  ui.timelineMinutes.addEventListener("click", () => setTimelineScale("minutes"));
  window.addEventListener("hashchange", () => {
    const wanted = new URLSearchParams(location.hash.slice(1)).get("poll");
    if (wanted && wanted !== state.selected && pollById(wanted)) select(wanted);
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) feed.kick();
  });
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  for (const hint of document.querySelectorAll("[data-zone]")) hint.textContent += ` (your time, ${zone})`;

  renderSession(await state.auth.restore());
  setInterval(renderClock, 250);
}

main().catch((error) => {
  setMessage(ui.loading, `The dashboard could not start: ${error.message}`, "error");
  throw error;
});

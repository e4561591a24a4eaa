// The mobile vote page: sign in (or create an account, when the stack lets voters), see the open poll (or
// ?poll=ID), vote with one tap, then watch the result.
//
// What the page reads again and again comes from the poll's public document (publicpoll.js: no token, the same
// for every viewer, answered by the CDN), never from a route of the API function. A visit asks the function at
// most three times: the roll (GET /polls/{id}, for a roll poll only), the voter's ballot (GET /votes/mine) and
// the vote. Only a voter who is not (yet) on a roll poll's roll, or who has no poll named in the address, makes the
// page ask the function again, and then every ten seconds or more, paused while the tab is hidden.
import { wireAccount, wireDeleteAccount } from "./account.js";
import { Api, OfflineError, errorMessage, sendSettled } from "./api.js";
import { Auth } from "./auth.js";
import { loadConfig, serverRules } from "./config.js";
import { jittered, PublicPollFeed } from "./publicpoll.js";
import { $, clockTime, el, plural, setMessage, show, when } from "./ui.js";

// How often the public document is read, in [min, max) ms (jittered, so that phones that voted together do not ask
// together): about every 2 s while this voter watches results move, far less while nothing they see can change
// but the poll's status, and always just after the poll's next instant (opening, close) when that comes sooner.
const WATCH_MS = [1500, 2500];
const WAIT_MS = [8000, 12_000];
const AFTER_INSTANT_MS = [300, 1500];
const PAST_INSTANT_MS = 30_000;
// Looking for an open poll (GET /polls: signed in, so it reaches the function): seldom, and never while hidden.
const RECHECK_MS = [12_000, 18_000];
const COUNTING_MS = 20_000; // "counting your vote…" at most this long after the vote (the stream takes about 1 s)

// A vote refused for load (429), failed on the server (5xx) or lost on the way is sent again: with capped
// exponential backoff and full jitter, never sooner than the API's Retry-After, for at most GIVE_UP_MS in all.
// Sending it again is always safe: a resend answers 200 with the ballot that stands.
const RETRY_BASE_MS = 250;
const RETRY_CAP_MS = 8000;
const ATTEMPT_TIMEOUT_MS = 10_000; // one request without an answer by then counts as a lost connection
const GIVE_UP_MS = giveUpMs();

// 30 s, or ?retry_for=SECONDS (1 to 300) in the page's address: the tests shorten it.
function giveUpMs() {
  const seconds = Number(new URLSearchParams(location.search).get("retry_for"));
  return Number.isInteger(seconds) && seconds >= 1 && seconds <= 300 ? seconds * 1000 : 30_000;
}

const ui = {
  loading: $("#loading"),
  session: $("#session"),
  who: $("#who"),
  accountButton: $("#account-button"),
  signOut: $("#sign-out"),
  accountPanel: $("#account-panel"),
  accountName: $("#account-name"),
  accountOperator: $("#account-operator"),
  accountClose: $("#account-close"),
  signInPanel: $("#sign-in-panel"),
  signInPoll: $("#sign-in-poll"),
  signInForm: $("#sign-in-form"),
  signInError: $("#sign-in-error"),
  forgotPassword: $("#forgot-password"),
  signUpOffer: $("#sign-up-offer"),
  createAccount: $("#create-account"),
  accountStep: $("#account-step"),
  accountActions: $("#account-actions"),
  deleteAccount: $("#delete-account"),
  deleteConfirm: $("#delete-confirm"),
  deleteForGood: $("#delete-for-good"),
  deleteKeep: $("#delete-keep"),
  deleteError: $("#delete-error"),
  ballotPanel: $("#ballot-panel"),
  pollTitle: $("#poll-title"),
  pollState: $("#poll-state"),
  instructions: $("#instructions"),
  choices: $("#choices"),
  resultsLine: $("#results-line"),
  outcome: $("#outcome"),
  retryVote: $("#retry-vote"),
  pickPanel: $("#pick-panel"),
  pickList: $("#pick-list"),
  pickOffRoll: $("#pick-off-roll"),
  nonePanel: $("#none-panel"),
  noneTitle: $("#none-title"),
  noneDetail: $("#none-detail"),
  checkAgain: $("#check-again"),
  openPolls: $("#open-polls"),
};

const state = {
  config: null,
  api: null,
  auth: null,
  account: null, // the account steps around the sign-in form (account.js)
  deletion: null, // "Delete my account"
  operatorsGroup: null, // the user pool group of operators (GET /config): null until the API has said
  session: 0, // counts sign-ins and sign-outs: an answer to an earlier session's request is dropped
  poll: null, // the poll shown: its public document's fields, and `eligible` for this voter
  ballot: null,
  sending: null,
  unconfirmed: null, // the candidate of a vote given up on: it may or may not have been recorded
  timer: null, // the next look for an open poll (GET /polls)
  feed: null, // the public document of feedPoll, read again and again
  feedPoll: null,
  doc: null, // its latest answer
  missing: null, // a poll id the API does not know
  arriving: false, // a poll being opened (its roll and ballot asked for)
  bars: null, // resultbars.js, loaded once there are results to show
  barsLoading: null,
};

const wantedPoll = () => new URLSearchParams(location.search).get("poll");
const labelOf = (candidateId) => state.poll?.candidates.find((c) => c.id === candidateId)?.label ?? candidateId;

function showOnly(panel) {
  for (const p of [ui.loading, ui.signInPanel, ui.accountStep, ui.ballotPanel, ui.pickPanel, ui.nonePanel]) {
    show(p, p === panel);
  }
}

function outcome(text, kind = "") {
  // The same words again are left alone, so that a screen reader does not hear them once per retry.
  if (ui.outcome.textContent === (text || "") && ui.outcome.dataset.kind === (text ? kind : "")) return;
  setMessage(ui.outcome, text, kind);
}

function later(fn, range) {
  clearTimeout(state.timer);
  state.timer = setTimeout(fn, jittered(range));
}

// ---- the public document -------------------------------------------------------------------------------------

function watch(pollId) {
  if (state.feedPoll === pollId && state.feed) return;
  state.feed?.stop();
  state.feedPoll = pollId;
  state.doc = null;
  state.feed = new PublicPollFeed(state.config.apiUrl, pollId, { onDocument, onProblem, everyMs });
  state.feed.start();
}

function unwatch() {
  state.feed?.stop();
  state.feed = null;
  state.feedPoll = null;
  state.doc = null;
}

function everyMs(doc) {
  const now = Date.now();
  const watching = Boolean(doc.results) && (Boolean(state.ballot) || doc.status === "closed");
  const [min, max] = watching ? WATCH_MS : WAIT_MS;
  const next = doc.status === "scheduled" ? doc.opens_at : doc.status === "open" ? doc.closes_at : null;
  const until = next ? Date.parse(next) - now : Infinity;
  if (until >= 0 && until < max) return AFTER_INSTANT_MS.map((ms) => until + ms);
  // The instant has passed but this copy predates it (the CDN and the browser keep a copy for a second or so, and
  // serve it while they fetch the next): soon again, for a little while.
  if (until < 0 && until > -PAST_INSTANT_MS) return WATCH_MS;
  return [min, max];
}

function onDocument(doc) {
  if (doc.poll_id !== state.feedPoll) return;
  state.doc = doc;
  if (!state.auth.signedIn) {
    ui.signInPoll.textContent = `To vote in “${doc.title}”.`;
    show(ui.signInPoll, true);
    return;
  }
  if (!state.poll && !state.arriving && wantedPoll() === doc.poll_id) {
    arrive(doc);
    return;
  }
  if (state.poll?.poll_id !== doc.poll_id) return;
  for (const key of ["title", "status", "opens_at", "closes_at", "electorate"]) state.poll[key] = doc[key];
  ui.pollTitle.textContent = doc.title;
  renderBallot();
  if (offRoll()) recheckRoll();
}

function onProblem(problem) {
  if (problem.kind === "missing") {
    // Said once: the id is not a poll, and asking again every few seconds would not make it one.
    state.missing = state.feedPoll;
    unwatch();
    show(ui.signInPoll, false);
    if (state.auth.signedIn && !state.poll) unknownPoll(state.missing);
  } else if (state.auth.signedIn && !state.poll && !state.doc) {
    showOnly(ui.loading);
    ui.loading.textContent = "No connection to Tally yet. This page tries again by itself…";
  }
}

// ---- finding the poll ------------------------------------------------------------------------------------

async function findPoll() {
  clearTimeout(state.timer);
  const wanted = wantedPoll();
  if (wanted) {
    if (state.missing === wanted) return unknownPoll(wanted);
    watch(wanted);
    if (state.doc) return arrive(state.doc);
    showOnly(ui.loading);
    ui.loading.textContent = "Looking for the poll…"; // onDocument goes on from here
    return;
  }
  const session = state.session;
  try {
    const reply = await state.api.get("/polls");
    if (session !== state.session || reply.status === 401) return;
    if (reply.status !== 200) return nothingToVoteOn("Something went wrong.", errorMessage(reply));
    const open = reply.body.polls.filter((p) => p.status === "open");
    // A roll poll this voter is not on is not theirs to choose; alone, it is shown, saying so (and why).
    const theirs = open.filter((p) => p.eligible !== false);
    const offRollPolls = open.filter((p) => p.eligible === false);
    if (theirs.length === 1) return await showPoll(theirs[0]);
    if (theirs.length > 1 || offRollPolls.length > 1) return pickPoll(theirs, offRollPolls);
    if (offRollPolls.length === 1) return await showPoll(offRollPolls[0]);
    return nothingToVoteOn("No poll is open right now", "This page checks again by itself every few seconds.");
  } catch (error) {
    if (!(error instanceof OfflineError)) throw error;
    return nothingToVoteOn("No connection to Tally", "This page tries again by itself every few seconds.");
  }
}

function nothingToVoteOn(title, detail) {
  unwatch();
  showOnly(ui.nonePanel);
  ui.noneTitle.textContent = title;
  ui.noneDetail.textContent = detail;
  show(ui.checkAgain, true);
  show(ui.openPolls, false);
  later(findPoll, RECHECK_MS);
}

function unknownPoll(pollId) {
  clearTimeout(state.timer);
  showOnly(ui.nonePanel);
  ui.noneTitle.textContent = `There is no poll “${pollId}”`;
  ui.noneDetail.textContent = "Check the link you were given, or choose from the polls that are open now.";
  show(ui.checkAgain, false);
  show(ui.openPolls, true);
}

function pickPoll(polls, offRollPolls) {
  unwatch();
  showOnly(ui.pickPanel);
  ui.pickList.replaceChildren(...polls.map((p) => el("li", {},
    el("a", { class: "button big", href: `?poll=${encodeURIComponent(p.poll_id)}` }, p.title))));
  // Shown, not offered: a voter who expected to be on a roll learns why the poll is not theirs to choose.
  show(ui.pickOffRoll, offRollPolls.length > 0);
  ui.pickOffRoll.replaceChildren(
    el("h3", {}, polls.length ? "Also open, for the voters on their roll" : "Open, for the voters on their roll"),
    el("p", { class: "hint" }, "The account you signed in with is not on their roll. If it should be, ask their " +
      "organisers to add it."),
    el("ul", {}, offRollPolls.map((p) => el("li", { dataset: { poll: p.poll_id } }, p.title))));
  later(findPoll, RECHECK_MS);
}

// The poll of the address, once its public document is in: the roll (a roll poll only), then the ballot.
async function arrive(doc) {
  const session = state.session;
  state.arriving = true;
  try {
    let eligible = true;
    if (doc.electorate === "roll") {
      const reply = await state.api.get(`/polls/${encodeURIComponent(doc.poll_id)}`);
      if (session !== state.session || reply.status === 401) return;
      eligible = reply.status === 200 ? reply.body.eligible !== false : true;
    }
    await showPoll({ ...pollFields(state.doc ?? doc), eligible }, session);
  } catch (error) {
    if (!(error instanceof OfflineError)) throw error;
    if (session === state.session) {
      showOnly(ui.loading);
      ui.loading.textContent = "No connection to Tally. Reload the page when you are back online.";
    }
  } finally {
    state.arriving = false;
  }
}

function pollFields(poll) {
  const { poll_id, title, candidates, status, opens_at, closes_at, electorate, eligible } = poll;
  return { poll_id, title, candidates, status, opens_at, closes_at, electorate, eligible };
}

async function showPoll(poll, session = state.session) {
  clearTimeout(state.timer);
  state.poll = pollFields(poll);
  state.ballot = null;
  state.unconfirmed = null;
  outcome("");
  renderChoices();
  renderBallot();
  showOnly(ui.ballotPanel);
  watch(poll.poll_id);
  await loadBallot();
  if (session !== state.session) return;
  renderBallot();
  if (state.ballot) state.feed?.kick(); // the results, now that they are this voter's to see
}

async function loadBallot() {
  const pollId = state.poll.poll_id;
  const reply = await state.api.get(`/votes/mine?poll_id=${encodeURIComponent(pollId)}`);
  if (state.poll?.poll_id !== pollId) return reply;
  if (reply.status === 200) {
    state.ballot = reply.body;
    outcome(`You voted for ${labelOf(reply.body.candidate)} at ${when(reply.body.cast_at)}.`, "success");
  } else if (reply.status === 404) {
    state.ballot = null; // no vote yet: the usual answer for a voter who has just arrived
  }
  return reply;
}

// A voter who is not on a roll poll's roll may be added while the page is open: asked again at each read of the
// public document (every ten seconds or so), until they are on it.
const offRoll = () => state.poll?.eligible === false && !state.ballot && state.poll.status !== "closed";

async function recheckRoll() {
  const pollId = state.poll.poll_id;
  try {
    const reply = await state.api.get(`/polls/${encodeURIComponent(pollId)}`);
    if (reply.status === 200 && state.poll?.poll_id === pollId && reply.body.eligible !== false) {
      state.poll.eligible = true;
      renderBallot();
    }
  } catch (error) {
    if (!(error instanceof OfflineError)) throw error;
  }
}

// ---- voting ----------------------------------------------------------------------------------------------

function renderChoices() {
  ui.pollTitle.textContent = state.poll.title;
  ui.choices.replaceChildren(...state.poll.candidates.map((c) => el("li", {},
    el("button", {
      type: "button", class: "choice", dataset: { candidate: c.id }, "aria-pressed": "false",
      onclick: () => vote(c.id),
    }, el("span", { class: "choice-label" }, c.label), el("span", { class: "choice-mark", "aria-hidden": "true" })))));
}

function renderBallot() {
  const poll = state.poll;
  // A roll poll says whether this voter is on its roll; the page asks again every few seconds, so a voter the
  // organisers add while the page is open can vote without reloading.
  const onRoll = poll.eligible !== false || Boolean(state.ballot);
  if (poll.status === "open") {
    ui.pollState.textContent = poll.closes_at ? `Voting is open until ${when(poll.closes_at)}.` : "Voting is open.";
  } else if (poll.status === "scheduled") {
    ui.pollState.textContent = poll.opens_at ? `Voting opens at ${when(poll.opens_at)}.` : "Voting has not opened yet.";
  } else {
    ui.pollState.textContent = "Voting has closed.";
  }
  const open = poll.status === "open" && onRoll; // this voter can vote now
  ui.pollState.dataset.status = poll.status;
  show(ui.instructions, open && !state.ballot);
  const retryable = open && state.unconfirmed !== null && !state.sending && !state.ballot;
  show(ui.retryVote, retryable);
  if (retryable) ui.retryVote.textContent = `Try my vote for ${labelOf(state.unconfirmed)} again`;
  for (const button of ui.choices.querySelectorAll("button.choice")) {
    const id = button.dataset.candidate;
    const chosen = state.ballot?.candidate === id;
    button.setAttribute("aria-pressed", String(chosen));
    button.querySelector(".choice-mark").textContent = chosen ? "✓ your vote" : "";
    button.disabled = state.sending !== null || !open;
    button.setAttribute("aria-busy", String(state.sending === id));
  }
  if (open && ui.outcome.dataset.kind === "info") outcome("");
  if (!onRoll && !state.sending && poll.status !== "closed") {
    outcome("Only the voters on this poll’s roll can vote in it, and the account you signed in with is not on " +
      "it. If it should be, ask the poll’s organisers to add it; this page lets you vote as soon as they do.",
    "info");
  } else if (!open && !state.ballot && !state.sending && !ui.outcome.textContent) {
    outcome(poll.status === "closed"
      ? "Voting has closed for this poll, so no more votes can be cast."
      : "Voting has not opened yet. This page will let you vote once it opens.", "info");
  }
  renderResults();
}

// ---- the results -----------------------------------------------------------------------------------------

// After a vote, and for everyone once the poll is closed: the shares in the choices themselves, and a line with the
// total and how fresh it is. Until the results may be shown, that line says when they will be.
function renderResults() {
  const doc = state.doc?.poll_id === state.poll?.poll_id ? state.doc : null;
  const entitled = Boolean(state.ballot) || state.poll?.status === "closed";
  const results = doc && entitled ? doc.results : null;
  if (results && !state.bars) {
    if (!state.barsLoading) loadBars().then((loaded) => loaded && state.poll && renderResults());
    return;
  }
  if (results) state.bars.showResults(ui.choices, results);
  else state.bars?.clearResults(ui.choices);
  const line = doc ? resultsLine(doc, results) : "";
  ui.resultsLine.textContent = line;
  ui.resultsLine.dataset.state = results ? (doc.final ? "final" : "live") : "waiting";
  show(ui.resultsLine, Boolean(line));
}

// Chart code is the results' only: it loads once there are results to show, never on the sign-in view.
function loadBars() {
  state.barsLoading = import("./resultbars.js").then((module) => {
    state.bars = module;
    return true;
  }, () => {
    state.barsLoading = null; // no connection: the next document tries again
    return false;
  });
  return state.barsLoading;
}

function resultsLine(doc, results) {
  if (results) {
    const total = plural(results.total, "vote");
    const turnout = results.turnout?.roll
      ? ` · turnout ${Math.round((results.turnout.cast / results.turnout.roll) * 100)}% of the roll` : "";
    if (doc.final) return `Final result: ${total}${turnout}.`;
    // as_of is when the counts last moved: before this ballot's cast_at, they cannot include it yet (said for a
    // vote of the last moments only, so that a clock's quirk cannot leave the words up).
    const counting = state.ballot && results.as_of && results.as_of < state.ballot.cast_at &&
      Date.now() - Date.parse(state.ballot.cast_at) < COUNTING_MS;
    const fresh = counting ? "counting your vote…" : `as of ${clockTime(results.as_of)}`;
    return `${doc.status === "closed" ? "Result" : "Live results"}: ${total}${turnout}, ${fresh}`;
  }
  if (doc.results_shown) {
    return state.poll.status === "closed" || state.poll.eligible === false ? ""
      : "The results show here once you have voted.";
  }
  if (doc.results_mode === "operators") return "The results of this poll are for its organisers only.";
  if (doc.results_at) return `The results are shown when voting closes, at ${when(doc.results_at)}.`;
  return "The results are shown when voting closes.";
}

async function vote(candidate) {
  if (state.sending || !state.poll) return; // a second tap while the first is on its way does nothing
  const pollId = state.poll.poll_id;
  const label = labelOf(candidate);
  state.sending = candidate;
  state.unconfirmed = null;
  outcome(`Sending your vote for ${label}…`, "pending");
  renderBallot();
  try {
    const sent = await sendVote(candidate, pollId, label);
    if (sent === null) {
      state.unconfirmed = candidate;
      outcome(`Your vote for ${label} may not have been recorded: Tally is too busy to take it, or the ` +
        `connection is down. In a moment, tap “Try my vote for ${label} again” below (or your choice): trying ` +
        "again can never count you twice.", "error");
      return;
    }
    const { reply, retried } = sent;
    if (reply.status === 201 || (reply.status === 200 && retried && reply.body.candidate === candidate)) {
      // After a retry a 200 is, most likely, this very vote: an earlier attempt landed but its answer was lost.
      state.ballot = reply.body;
      outcome(`Your vote for ${label} is in. Thank you!`, "success");
    } else if (reply.status === 200) {
      state.ballot = reply.body;
      outcome(`Your vote for ${labelOf(reply.body.candidate)} was already recorded at ` +
        `${when(reply.body.cast_at)}. Nothing has changed.`, "success");
    } else if (reply.status === 409) {
      await explainRefusal(candidate, reply);
    } else if (reply.status === 404) {
      outcome("This poll or this choice no longer exists. Reload the page to see the current poll.", "error");
    } else if (reply.status !== 401) {
      outcome(errorMessage(reply), "error");
    }
  } catch (error) {
    if (!(error instanceof OfflineError)) throw error;
    // explainRefusal's own requests found no connection: the vote's answer was a refusal all the same.
    outcome("Your vote was not counted, and there is no connection to Tally to find out why. Reload the page " +
      "when you are back online.", "error");
  } finally {
    state.sending = null;
    if (state.poll) renderBallot();
    if (state.ballot) state.feed?.kick(); // the results, at once
  }
}

// Send the vote until an answer settles it: {reply, retried}. A 429, a 5xx or a lost connection is sent again
// after a wait (api.js sendSettled, the one resend loop), meanwhile the page says so; null once GIVE_UP_MS has
// gone by without a settling answer, or when the next wait would end after that.
function sendVote(candidate, pollId, label) {
  return sendSettled(
    (signal) => state.api.post(`/votes/${encodeURIComponent(candidate)}`, { poll_id: pollId }, { signal }),
    {
      giveUpMs: GIVE_UP_MS, attemptTimeoutMs: ATTEMPT_TIMEOUT_MS, baseMs: RETRY_BASE_MS, capMs: RETRY_CAP_MS,
      onRetry: ({ why }) => outcome(`${why === "offline" ? "The connection to Tally was lost" :
        "The vote service is busy"}; retrying your vote for ${label}… Keep this page open: retrying never counts ` +
        "you twice.", "pending"),
    });
}

// A 409 is either an earlier, different vote or a poll that is not open: find out which, and say it plainly.
async function explainRefusal(candidate, reply) {
  if (state.ballot && state.ballot.candidate !== candidate) {
    return outcome(`You already voted for ${labelOf(state.ballot.candidate)} in this poll, and a vote cannot be ` +
      "changed. Your vote stands.", "warn");
  }
  const mine = await loadBallot();
  if (mine.status === 200 && mine.body.candidate !== candidate) {
    return outcome(`You already voted for ${labelOf(mine.body.candidate)} in this poll, and a vote cannot be ` +
      "changed. Your vote stands.", "warn");
  }
  const poll = await state.api.get(`/polls/${encodeURIComponent(state.poll.poll_id)}`);
  if (poll.status === 200) state.poll.status = poll.body.status;
  if (state.poll.status === "closed") {
    return outcome("Voting has closed for this poll, so this vote was not counted.", "warn");
  }
  if (state.poll.status === "scheduled") {
    return outcome("Voting has not opened yet, so this vote was not counted. Try again once it opens.", "warn");
  }
  return outcome(errorMessage(reply), "warn");
}

// ---- session ---------------------------------------------------------------------------------------------

function renderSession(reason = "") {
  state.session++;
  clearTimeout(state.timer);
  state.poll = null;
  state.ballot = null;
  renderAccountKind();
  openAccount(false);
  if (state.auth.signedIn) {
    show(ui.session, true);
    ui.who.textContent = ui.accountName.textContent = state.auth.username;
    showOnly(ui.loading);
    ui.loading.textContent = "Looking for the open poll…";
    findPoll();
  } else {
    show(ui.session, false);
    if (state.feedPoll !== wantedPoll()) unwatch();
    show(ui.signInPoll, Boolean(state.doc));
    state.account.reset(reason, "info");
  }
}

// An operator's account is an administrator's to remove: its view says so instead of offering "Delete my account".
// Until GET /config has named the operators' group, neither shows.
function renderAccountKind() {
  const signedIn = state.auth.signedIn;
  const operator = state.operatorsGroup === null ? null : state.auth.groups.includes(state.operatorsGroup);
  state.deletion.render(signedIn, operator);
  show(ui.accountOperator, signedIn && operator === true);
}

// The account's own view, opened from the header: who is signed in on this device, and "Delete my account".
function openAccount(open) {
  show(ui.accountPanel, open);
  ui.accountButton.setAttribute("aria-expanded", String(open));
  if (open) ui.accountClose.focus();
}

// What GET /config says of accounts: whether voters may make their own here, whether this is the local stack (its
// Cognito is moto, which sends no mail), and which group is the operators'. Asked until the API answers; sign-in
// works meanwhile. The answer is public and cacheable: the browser and the CDN keep it.
async function learnAccountRules(config) {
  const rules = await serverRules(config);
  state.account.configure({ selfSignup: rules.self_signup === true, local: Boolean(rules.cognito_endpoint) });
  state.operatorsGroup = rules.operators_group;
  renderAccountKind();
}

async function main() {
  const config = await loadConfig((delay, reason) => {
    ui.loading.textContent = `Waiting for Tally: ${reason}. Trying again in ${Math.ceil(delay / 1000)} s…`;
  });
  state.config = config;
  // Invited voters choose their own password at their first sign-in, here. The session is the device's, not the
  // tab's (persist): a second tab, or the join link scanned again, needs no new sign-in.
  state.auth = new Auth(config, "tally.vote.session", { newPassword: true, persist: true });
  state.api = new Api(config.apiUrl, state.auth);
  state.auth.addEventListener("change", (event) => renderSession(event.detail.reason));
  state.account = wireAccount(state.auth, {
    signInPanel: ui.signInPanel, signInForm: ui.signInForm, signInError: ui.signInError, stepPanel: ui.accountStep,
    forgotButton: ui.forgotPassword, offer: ui.signUpOffer, createButton: ui.createAccount, showOnly,
  });
  state.deletion = wireDeleteAccount(state.auth, {
    section: ui.accountActions, openButton: ui.deleteAccount, confirmBox: ui.deleteConfirm,
    deleteButton: ui.deleteForGood, keepButton: ui.deleteKeep, error: ui.deleteError,
  });
  learnAccountRules(config);
  ui.signOut.addEventListener("click", () => state.auth.signOut("You have signed out."));
  ui.accountButton.addEventListener("click", () => openAccount(ui.accountPanel.hidden));
  ui.accountClose.addEventListener("click", () => {
    openAccount(false);
    ui.accountButton.focus();
  });
  ui.checkAgain.addEventListener("click", findPoll);
  ui.retryVote.addEventListener("click", () => state.unconfirmed && vote(state.unconfirmed));
  document.addEventListener("visibilitychange", () => {
    // The public document's reads pause and resume by themselves (publicpoll.js); so does the look for a poll.
    if (document.hidden) clearTimeout(state.timer);
    else if (state.auth.signedIn && !state.poll && !state.missing && (!ui.pickPanel.hidden || !ui.nonePanel.hidden)) {
      findPoll();
    }
  });
  const wanted = wantedPoll();
  if (wanted) watch(wanted); // the poll's title on the sign-in view, and no wait for it after
  renderSession(await state.auth.restore());
}

main().catch((error) => {
  ui.loading.textContent = `The page could not start: ${error.message}`;
  throw error;
});

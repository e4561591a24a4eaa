// The mobile vote page: sign in (or create an account, when the stack lets voters), see the open poll (or
// ?poll=ID), vote with one tap, see what happened.
import { wireAccount, wireDeleteAccount } from "./account.js";
import { Api, OfflineError, errorMessage, sendSettled } from "./api.js";
import { Auth } from "./auth.js";
import { loadConfig } from "./config.js";
import { $, el, setMessage, show, sleep, when } from "./ui.js";

const RECHECK_MS = 5000; // looking for an open poll
const STATUS_EVERY_MS = 10_000; // the shown poll's status (it may close)
const CLOSE_MARGIN_MS = 500; // after a poll's closes_at, before asking for its status again

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
  signOut: $("#sign-out"),
  signInPanel: $("#sign-in-panel"),
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
  outcome: $("#outcome"),
  retryVote: $("#retry-vote"),
  pickPanel: $("#pick-panel"),
  pickList: $("#pick-list"),
  nonePanel: $("#none-panel"),
  noneTitle: $("#none-title"),
  noneDetail: $("#none-detail"),
  checkAgain: $("#check-again"),
};

const state = {
  api: null,
  auth: null,
  account: null, // the account steps around the sign-in form (account.js)
  deletion: null, // "Delete my account"
  poll: null,
  ballot: null,
  sending: null,
  unconfirmed: null, // the candidate of a vote given up on: it may or may not have been recorded
  timer: null,
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

function later(fn, ms) {
  clearTimeout(state.timer);
  state.timer = setTimeout(fn, ms);
}

// ---- finding the poll ------------------------------------------------------------------------------------

async function findPoll() {
  clearTimeout(state.timer);
  let reply;
  try {
    const wanted = wantedPoll();
    reply = await state.api.get(wanted ? `/polls/${encodeURIComponent(wanted)}` : "/polls");
    if (reply.status === 401) return;
    if (reply.status !== 200) {
      return nothingToVoteOn(reply.status === 404 ? `There is no poll “${wanted}”.` : "Something went wrong.",
        errorMessage(reply));
    }
    if (wanted) return await showPoll(reply.body);
    const open = reply.body.polls.filter((p) => p.status === "open");
    if (open.length === 1) return await showPoll(open[0]);
    if (open.length > 1) return pickPoll(open);
    return nothingToVoteOn("No poll is open right now", "This page checks again by itself every few seconds.");
  } catch (error) {
    if (!(error instanceof OfflineError)) throw error;
    return nothingToVoteOn("No connection to Tally", "This page tries again by itself every few seconds.");
  }
}

function nothingToVoteOn(title, detail) {
  showOnly(ui.nonePanel);
  ui.noneTitle.textContent = title;
  ui.noneDetail.textContent = detail;
  later(findPoll, RECHECK_MS);
}

function pickPoll(polls) {
  showOnly(ui.pickPanel);
  ui.pickList.replaceChildren(...polls.map((p) => el("li", {},
    el("a", { class: "button big", href: `?poll=${encodeURIComponent(p.poll_id)}` }, p.title))));
  later(findPoll, RECHECK_MS);
}

async function showPoll(poll) {
  const first = state.poll?.poll_id !== poll.poll_id;
  state.poll = poll;
  if (first) {
    state.ballot = null;
    state.unconfirmed = null;
    outcome("");
    renderChoices();
    showOnly(ui.ballotPanel);
    await loadBallot();
  }
  renderBallot();
  later(refreshStatus, statusDelay());
}

// The next look at the poll's status: every STATUS_EVERY_MS, or just after its close if that comes sooner.
function statusDelay() {
  const poll = state.poll;
  if (poll?.status !== "open" || !poll.closes_at) return STATUS_EVERY_MS;
  const untilClose = Date.parse(poll.closes_at) - Date.now() + CLOSE_MARGIN_MS;
  return Math.min(STATUS_EVERY_MS, Math.max(CLOSE_MARGIN_MS, untilClose));
}

async function loadBallot() {
  const reply = await state.api.get(`/votes/mine?poll_id=${encodeURIComponent(state.poll.poll_id)}`);
  if (reply.status === 200) {
    state.ballot = reply.body;
    outcome(`You voted for ${labelOf(reply.body.candidate)} at ${when(reply.body.cast_at)}.`, "success");
  } else if (reply.status === 404) {
    state.ballot = null; // no vote yet: the usual answer for a voter who has just arrived
  }
  return reply;
}

async function refreshStatus() {
  if (!state.poll) return;
  try {
    const reply = await state.api.get(`/polls/${encodeURIComponent(state.poll.poll_id)}`);
    if (reply.status === 200) {
      state.poll = reply.body;
      renderBallot();
    }
  } catch (error) {
    if (!(error instanceof OfflineError)) throw error;
  }
  later(refreshStatus, statusDelay());
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
  if (poll.status === 200) state.poll = poll.body;
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
  clearTimeout(state.timer);
  state.poll = null;
  state.ballot = null;
  state.deletion.render(state.auth.signedIn, state.auth.groups.includes("operators"));
  if (state.auth.signedIn) {
    show(ui.session, true);
    ui.who.textContent = state.auth.username;
    showOnly(ui.loading);
    ui.loading.textContent = "Looking for the open poll…";
    findPoll();
  } else {
    show(ui.session, false);
    state.account.reset(reason, "info");
  }
}

// Whether voters may make their own accounts here, and whether this is the local stack (its Cognito is moto, which
// sends no mail): the API's GET /config says both. Asked again after a failure; sign-in works meanwhile.
async function accountOptions(apiUrl) {
  for (let delay = 1000; ; delay = Math.min(delay * 2, 30_000)) {
    try {
      const reply = await fetch(`${apiUrl}/config`, { cache: "no-cache" });
      if (reply.ok) {
        const config = await reply.json();
        return { selfSignup: config.self_signup === true, local: Boolean(config.cognito_endpoint) };
      }
    } catch {
      // no connection yet: try again below
    }
    await sleep(delay);
  }
}

async function main() {
  const config = await loadConfig((delay, reason) => {
    ui.loading.textContent = `Waiting for Tally: ${reason}. Trying again in ${Math.ceil(delay / 1000)} s…`;
  });
  // Invited voters choose their own password at their first sign-in, here.
  state.auth = new Auth(config, "tally.vote.session", { newPassword: true });
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
  accountOptions(config.apiUrl).then((options) => state.account.configure(options));
  ui.signOut.addEventListener("click", () => state.auth.signOut("You have signed out."));
  ui.checkAgain.addEventListener("click", findPoll);
  ui.retryVote.addEventListener("click", () => state.unconfirmed && vote(state.unconfirmed));
  document.addEventListener("visibilitychange", () => {
    // A phone coming back from the lock screen: the poll may have opened or closed meanwhile.
    if (!document.hidden && state.auth.signedIn) (state.poll ? refreshStatus : findPoll)();
  });
  renderSession(await state.auth.restore());
}

main().catch((error) => {
  ui.loading.textContent = `The page could not start: ${error.message}`;
  throw error;
});

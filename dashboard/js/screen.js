// The audience screen (screen.html?poll=ID): one poll's question, its bars, the total, the countdown and the QR code
// to join, for a projector, a TV graphic or another site's frame. It reads the poll's public document only
// (publicpoll.js): no sign-in and no token, so a screen costs the API nothing per viewer behind a CDN, and it can
// run on any computer, a second screen or in an embed. The page fits its window without scrolling: the title and
// the bars take the largest type that fits (fit, below), so 2 to 12 candidates of up to 100 characters all show.
import { loadConfig } from "./config.js";
import { drawQr, joinUrl, onlyHere, spokenUrl } from "./join.js";
import { colour } from "./palette.js";
import { PublicPollFeed } from "./publicpoll.js";
import { $, age, clockTime, duration, el, percent, show, when } from "./ui.js";

// The public document is read every 1 to 1.25 s (jittered): behind a CDN a screen costs the API nothing, and a vote
// shows within the stream's lag plus at most a read's wait. Never under a second, the document's max-age: a read
// sooner would only fetch the CDN's same copy again.
const READ_EVERY_MS = [1000, 1250];
const IDLE_MS = 3000; // the full-screen button and the pointer hide after this long without a move
const STATUS_WORDS = { open: "Open", scheduled: "Scheduled", closed: "Closed" };

const ui = {
  screen: $("#screen"),
  badge: $("#screen-badge"),
  statusText: $("#screen-status-text"),
  title: $("#screen-title"),
  results: $("#screen-results"),
  bars: $("#screen-bars"),
  hidden: $("#screen-hidden"),
  problem: $("#screen-problem"),
  join: $("#screen-join"),
  qr: $("#screen-qr"),
  link: $("#screen-link"),
  countdown: $("#screen-countdown"),
  totalBox: $("#screen-total-box"),
  total: $("#screen-total"),
  totalLabel: $("#screen-total-label"),
  turnout: $("#screen-turnout"),
  freshness: $("#screen-freshness"),
  fullscreen: $("#screen-fullscreen"),
};

const state = {
  pollId: null,
  doc: null,
  lastAnswer: 0,
  trouble: null, // the feed's last problem while a document is shown: {kind, retryInMs, at}
  rowsKey: "", // the candidates the bars were built for
};

// ---- what the document says -----------------------------------------------------------------------------------

function onDocument(doc, { changed }) {
  state.lastAnswer = Date.now();
  state.trouble = null;
  state.doc = doc;
  if (changed) render(doc);
  renderClock();
}

function onProblem(problem) {
  if (problem.kind === "missing") {
    state.doc = null;
    state.rowsKey = "";
    ui.bars.replaceChildren();
    return showProblem(`There is no poll “${state.pollId}”. Check the address: screen.html?poll=<the poll's id>.`);
  }
  state.trouble = { ...problem, at: Date.now() };
  if (!state.doc) showProblem("Waiting for the Tally API…");
  renderClock();
}

function showProblem(text) {
  ui.screen.dataset.state = "problem";
  ui.title.textContent = state.doc?.title ?? "";
  ui.statusText.textContent = "";
  ui.badge.textContent = "";
  ui.badge.dataset.status = "";
  ui.problem.textContent = text;
  show(ui.problem, true);
  show(ui.hidden, false);
  show(ui.join, false);
  show(ui.totalBox, false);
  show(ui.turnout, false);
  ui.countdown.textContent = "";
  fitSoon();
}

function render(doc) {
  ui.screen.dataset.state = doc.status;
  ui.screen.dataset.results = doc.results ? "shown" : "hidden";
  document.title = `${doc.title} · Tally`;
  ui.title.textContent = doc.title;
  ui.badge.textContent = STATUS_WORDS[doc.status] ?? doc.status;
  ui.badge.dataset.status = doc.status;
  show(ui.problem, false);
  renderBars(doc);

  const results = doc.results;
  show(ui.hidden, !results);
  if (!results) ui.hidden.textContent = hiddenText(doc);
  show(ui.totalBox, Boolean(results));
  if (results) {
    ui.total.textContent = results.total.toLocaleString();
    ui.totalLabel.textContent = results.total === 1 ? "vote" : "votes";
  }
  const turnout = results?.turnout;
  show(ui.turnout, Boolean(turnout));
  if (turnout) {
    ui.turnout.textContent = `Turnout ${turnout.roll ? percent(turnout.cast / turnout.roll) : "–"} · ` +
      `${turnout.cast.toLocaleString()} of ${turnout.roll.toLocaleString()} on the roll`;
  }
  // Nobody joins a closed poll: its screen is the result.
  show(ui.join, doc.status !== "closed");
  fitSoon();
}

// Why there are no bars: results_mode is the poll's own setting (after_close, operators).
function hiddenText(doc) {
  if (doc.results_mode === "operators") return "The results are for the organisers only.";
  if (doc.status !== "closed") {
    return doc.results_at ? `Results after the close, at ${when(doc.results_at)}` : "Results after the close";
  }
  return "The result is not shown here.";
}

// One row per candidate, made once per set of candidates and then only updated, so that the bars glide.
function renderBars(doc) {
  const results = doc.results;
  const candidates = results?.candidates ?? doc.candidates;
  const key = JSON.stringify(candidates.map((c) => [c.id, c.label]));
  if (key !== state.rowsKey) {
    state.rowsKey = key;
    ui.bars.dataset.count = String(candidates.length);
    ui.bars.replaceChildren(...candidates.map((c, i) => el("li", { class: "bar", dataset: { candidate: c.id } },
      el("span", { class: "bar-label" }, c.label),
      el("span", { class: "bar-figure" }),
      el("span", { class: "bar-track" }, el("span", { class: "bar-fill" })))));
    ui.bars.querySelectorAll(".bar-fill").forEach((fill, i) => { fill.style.backgroundColor = colour(i); });
  }
  const leader = results ? Math.max(0, ...results.candidates.map((c) => c.votes)) : 0;
  for (const c of candidates) {
    const row = ui.bars.querySelector(`[data-candidate="${CSS.escape(c.id)}"]`);
    const votes = results ? c.votes : null;
    row.querySelector(".bar-figure").textContent = results ? `${votes.toLocaleString()} · ${percent(c.share)}` : "";
    row.querySelector(".bar-fill").style.width = leader ? `${(votes / leader) * 100}%` : "0%";
    row.classList.toggle("leading", Boolean(results && doc.status === "closed" && leader > 0 && votes === leader));
  }
}

// Everything that moves with the clock: the countdown and how fresh the counts are.
function renderClock() {
  const doc = state.doc;
  const now = Date.now();
  if (doc) {
    ui.statusText.textContent = statusText(doc, now);
    ui.countdown.textContent = countdownText(doc, now);
    ui.countdown.dataset.soon = String(doc.status === "open" && Boolean(doc.closes_at) &&
      Date.parse(doc.closes_at) - now < 60_000);
  }
  let fresh = "";
  const results = doc?.results;
  if (results) fresh = results.total ? `Counts as of ${clockTime(results.as_of)}` : "No votes yet";
  if (state.trouble && doc) {
    fresh += `${fresh ? " · " : ""}Reconnecting… last answer ${age(now - state.lastAnswer)}`;
  }
  ui.freshness.textContent = fresh;
  ui.freshness.dataset.trouble = String(Boolean(state.trouble));
}

function statusText(doc, now) {
  if (doc.status === "scheduled") return doc.opens_at ? `Voting opens at ${when(doc.opens_at)}` : "Voting opens soon";
  if (doc.status === "closed") return doc.closes_at ? `Voting closed at ${when(doc.closes_at)}` : "Voting has closed";
  if (doc.closes_at && Date.parse(doc.closes_at) > now) return `Voting is open until ${when(doc.closes_at)}`;
  return "Voting is open";
}

function countdownText(doc, now) {
  if (doc.status === "scheduled" && doc.opens_at) {
    const left = Date.parse(doc.opens_at) - now;
    return left > 0 ? `Opens in ${duration(left)}` : "Opening…";
  }
  if (doc.status === "open" && doc.closes_at) {
    const left = Date.parse(doc.closes_at) - now;
    return left > 0 ? `Closes in ${duration(left)}` : "Closing…";
  }
  if (doc.status === "closed") return doc.results ? "Final result" : "Voting has closed";
  return "";
}

// ---- fitting the window ---------------------------------------------------------------------------------------

// The largest font size in [min, max] px at which fits() holds (or min): a bisection, each step one layout.
function fitFont(node, fits, min, max) {
  node.style.fontSize = `${max}px`;
  if (fits(max)) return max;
  let lo = min;
  let hi = max;
  for (let i = 0; i < 9; i++) {
    const mid = (lo + hi) / 2;
    node.style.fontSize = `${mid}px`;
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  node.style.fontSize = `${lo}px`;
  return lo;
}

// A landscape window (a projector, a TV, a frame) is filled without scrolling; a portrait one (a phone) scrolls.
const landscape = matchMedia("(min-aspect-ratio: 1/1)");

function fit() {
  const vh = window.innerHeight / 100;
  if (!landscape.matches) {
    ui.title.style.fontSize = "";
    ui.bars.style.fontSize = "";
    return;
  }
  // The title: as big as two lines allow, smaller for a long question (up to 200 characters).
  fitFont(ui.title, (px) => ui.title.scrollHeight <= px * 1.15 * 2 + 2, 3.2 * vh, 8 * vh);
  // The bars: as big as the space left allows.
  const results = ui.results;
  fitFont(ui.bars, () => results.scrollHeight <= results.clientHeight && results.scrollWidth <= results.clientWidth,
    Math.max(9, 1.3 * vh), 6 * vh);
}

let fitFrame = 0;
function fitSoon() {
  cancelAnimationFrame(fitFrame);
  fitFrame = requestAnimationFrame(fit);
}

// ---- full screen, and chrome that hides ------------------------------------------------------------------------

function wireFullscreen() {
  if (!document.fullscreenEnabled) return; // e.g. in a frame without allow="fullscreen"
  show(ui.fullscreen, true);
  const toggle = () => (document.fullscreenElement ? document.exitFullscreen() : document.documentElement
    .requestFullscreen()).catch(() => {});
  ui.fullscreen.addEventListener("click", toggle);
  document.addEventListener("keydown", (event) => {
    if (event.key === "f" && !event.ctrlKey && !event.metaKey && !event.altKey) toggle();
  });
  document.addEventListener("fullscreenchange", () => {
    ui.fullscreen.textContent = document.fullscreenElement ? "Exit full screen" : "Full screen";
  });
  let idle = 0;
  const wake = () => {
    document.body.classList.remove("idle");
    clearTimeout(idle);
    idle = setTimeout(() => {
      if (!ui.fullscreen.matches(":focus-visible")) document.body.classList.add("idle");
    }, IDLE_MS);
  };
  for (const name of ["pointermove", "pointerdown", "keydown"]) document.addEventListener(name, wake);
  wake();
}

// ---- start ----------------------------------------------------------------------------------------------------

async function main() {
  wireFullscreen();
  new ResizeObserver(fitSoon).observe(ui.screen);
  const pollId = new URLSearchParams(location.search).get("poll");
  // An id the API does not take is answered as no such poll (publicpoll.js): the API's rule for ids is the one the
  // screen follows, and the screen reads nothing but the public document.
  if (!pollId) {
    showProblem("Which poll? Add its id to this page's address: screen.html?poll=<the poll's id>.");
    return;
  }
  state.pollId = pollId;
  const link = joinUrl(pollId);
  ui.link.textContent = spokenUrl(link);
  ui.link.title = onlyHere(link) ? "This address works on this computer only: phones need the stack's network " +
    "address." : "";
  drawQr(ui.qr, link).then((drawn) => show(ui.qr, drawn));
  const config = await loadConfig((delay, reason) => showProblem(`Waiting for the stack: ${reason}…`));
  new PublicPollFeed(config.apiUrl, pollId, { onDocument, onProblem, everyMs: () => READ_EVERY_MS }).start();
  setInterval(renderClock, 250);
}

main().catch((error) => {
  showProblem(`The screen could not start: ${error.message}`);
  throw error;
});

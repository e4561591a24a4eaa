// The results panel: the selected poll's heading and countdown, whether the page is live, its counts as a table and
// bars, a roll poll's turnout, the timeline, and the CSV download. Its figures come from the results feed.
import { errorMessage } from "./api.js";
import { BarsChart, TimelineChart, chartsAvailable, timelineSeries } from "./charts.js";
import { downloadResults } from "./export.js";
import { renderJoin } from "./joinpanel.js";
import { notify } from "./notice.js";
import { STATUS_WORDS, closingText } from "./polllist.js";
import { ResultsFeed } from "./resultsfeed.js";
import { $, age, clockTime, duration, el, percent, setMessage, show, when } from "./ui.js";

const ui = {
  pollId: $("#results-poll-id"),
  title: $("#results-title"),
  status: $("#results-status"),
  countdown: $("#countdown"),
  connection: $("#connection"),
  freshness: $("#freshness"),
  sourceNote: $("#source-note"),
  message: $("#results-message"),
  body: $("#results-body"),
  total: $("#total"),
  totalLabel: $("#total-label"),
  turnout: $("#turnout"),
  turnoutShare: $("#turnout-share"),
  turnoutFigures: $("#turnout-figures"),
  exportCsv: $("#export-csv"),
  counts: $("#counts tbody"),
  barsAndTable: $(".bars-and-table"),
  barsChart: $("#bars-chart"),
  timelineChart: $("#timeline-chart"),
  timelineCaption: $("#timeline-caption"),
  timelineSeconds: $("#timeline-seconds"),
  timelineMinutes: $("#timeline-minutes"),
};

export class ResultsPanel {
  #results = null;
  #resultsText = "";
  #timelineScale = "seconds";
  #connection = { state: "idle" };
  #lastAnswer = 0;
  #charts = null;
  #feed;

  // polls: the poll list (which poll is selected, and what is known of it); roll: the roll panel.
  constructor({ api, auth, polls, roll }) {
    Object.assign(this, { api, polls, roll });
    this.#feed = new ResultsFeed({
      api, auth,
      onResults: (reply) => this.#onResults(reply),
      onRefused: (reply) => this.#onRefused(reply),
      onAway: ({ nextTryAt, failures }) => this.#setConnection({ state: "reconnecting", nextTryAt, failures }),
    });
    ui.exportCsv.addEventListener("click", () => this.#export());
    ui.timelineSeconds.addEventListener("click", () => this.#setTimelineScale("seconds"));
    ui.timelineMinutes.addEventListener("click", () => this.#setTimelineScale("minutes"));
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.#feed.kick();
    });
  }

  // The charts, once signed in; false when the chart library did not load (the figures still show).
  startCharts() {
    if (!chartsAvailable()) return false;
    this.#charts ??= { bars: new BarsChart(ui.barsChart), timeline: new TimelineChart(ui.timelineChart) };
    return true;
  }

  follow(pollId) {
    this.#clear();
    setMessage(ui.message, "");
    show(ui.exportCsv, true);
    this.#setConnection({ state: "connecting" });
    this.renderHeading();
    this.#feed.start(pollId);
  }

  // Ask now, not at the next tick: the poll, or its roll, has just changed.
  kick() {
    this.#feed.kick();
  }

  // The selected poll's closes_at has just passed: while the results still say open, ask whether they still are.
  closing() {
    if (this.#results?.status === "open") this.#feed.kick();
  }

  reset() {
    this.#feed.stop();
    this.#clear();
    show(ui.exportCsv, false);
    this.#setConnection({ state: "idle" });
  }

  renderHeading() {
    const selected = this.polls.selected;
    const poll = this.polls.byId(selected);
    ui.title.textContent = poll?.title ?? (selected ? selected : "Choose a poll");
    ui.pollId.textContent = selected ? `Poll ${selected}` : "";
    const status = this.#results?.status ?? poll?.status;
    show(ui.status, Boolean(status));
    ui.status.textContent = STATUS_WORDS[status] ?? status ?? "";
    ui.status.dataset.status = status ?? "";
    this.roll?.show(poll ?? null);
    renderJoin(selected, poll);
  }

  // Everything that moves with the clock: the countdown, the connection line, the age of the counts.
  tick(now = Date.now()) {
    ui.countdown.textContent = this.#countdown(now);
    this.#renderConnection(now);
    const results = this.#results;
    if (results && results.total > 0) {
      ui.freshness.textContent = `Counts as of ${clockTime(results.as_of)} (${age(now - Date.parse(results.as_of))})` +
        (results.source === "tallies" ? " · from the exact counters" : "");
    } else {
      ui.freshness.textContent = results ? "No votes yet" : "";
    }
  }

  #clear() {
    this.#results = null;
    this.#resultsText = "";
    show(ui.body, false);
  }

  #setConnection(connection) {
    this.#connection = connection;
    this.tick();
  }

  #onResults(reply) {
    this.#lastAnswer = Date.now();
    setMessage(ui.message, "");
    if (this.#connection.state !== "live") this.#setConnection({ state: "live" });
    if (reply.text !== this.#resultsText) {
      // A 304 from the API reaches us as the held 200 with the same text: nothing to redraw.
      this.#resultsText = reply.text;
      this.#results = reply.body;
      this.#renderResults();
    }
    this.#renderTimeline();
    this.tick();
  }

  #onRefused(reply) {
    this.#lastAnswer = Date.now();
    this.#setConnection({ state: "refused" });
    setMessage(ui.message, errorMessage(reply), "error");
    if (reply.status === 403 || reply.status === 404) this.#clear();
  }

  #countdown(now) {
    const poll = this.polls.byId(this.polls.selected);
    const status = this.#results?.status ?? poll?.status;
    if (status === "open" && poll?.closes_at) return closingText(poll.closes_at, now);
    if (status === "open") return "Open until closed by hand";
    if (status === "scheduled" && poll?.opens_at) {
      const left = Date.parse(poll.opens_at) - now;
      return left > 0 ? `Opens in ${duration(left)}` : "Opening…";
    }
    if (status === "closed") return poll?.closes_at ? `Closed at ${when(poll.closes_at)}` : "Closed";
    return "";
  }

  #renderConnection(now) {
    const c = this.#connection;
    ui.connection.dataset.state = c.state;
    if (c.state === "live") {
      ui.connection.textContent = `Live · checked ${age(now - this.#lastAnswer)}`;
    } else if (c.state === "reconnecting") {
      const wait = Math.max(0, Math.ceil((c.nextTryAt - now) / 1000));
      const since = this.#lastAnswer ? `; last answer ${age(now - this.#lastAnswer)}` : "";
      ui.connection.textContent = `Reconnecting… the API is not answering (next try in ${wait} s${since})`;
    } else if (c.state === "connecting") {
      ui.connection.textContent = "Connecting…";
    } else {
      ui.connection.textContent = "";
    }
  }

  #renderResults() {
    const results = this.#results;
    const poll = this.polls.byId(results.poll_id);
    if (poll && poll.status !== results.status) this.polls.refresh(); // e.g. closes_at has passed
    this.renderHeading();
    show(ui.body, true);
    show(ui.sourceNote, results.source === "tallies");
    ui.total.textContent = results.total.toLocaleString();
    ui.totalLabel.textContent = results.total === 1 ? "vote" : "votes";
    this.#renderTurnout(results);
    const leader = Math.max(...results.candidates.map((c) => c.votes));
    ui.barsAndTable.dataset.layout = results.candidates.length > 6 ||
      results.candidates.some((c) => c.label.length > 24) ? "stacked" : "side";
    ui.counts.replaceChildren(...results.candidates.map((c) => el("tr", {
      dataset: { candidate: c.id }, class: c.votes > 0 && c.votes === leader ? "leading" : null,
    },
    el("th", { scope: "row" }, c.label),
    el("td", { class: "num votes" }, c.votes.toLocaleString()),
    el("td", { class: "num share" }, percent(c.share)))));
    this.#charts?.bars.update(results.candidates);
  }

  // A roll poll's turnout: "Turnout 50% · 2 of 4 voters on the roll have voted".
  #renderTurnout(results) {
    const turnout = results.turnout;
    show(ui.turnout, Boolean(turnout));
    if (!turnout) return;
    ui.turnoutShare.textContent = turnout.roll ? percent(turnout.cast / turnout.roll) : "–";
    ui.turnoutFigures.textContent = `· ${turnout.cast.toLocaleString()} of ${turnout.roll.toLocaleString()} ` +
      `${turnout.roll === 1 ? "voter" : "voters"} on the roll ${turnout.cast === 1 ? "has" : "have"} voted`;
    ui.turnout.dataset.cast = String(turnout.cast);
    ui.turnout.dataset.roll = String(turnout.roll);
    this.roll?.sizeFromResults(results.poll_id, turnout.roll);
  }

  #renderTimeline() {
    if (!this.#results || !this.#charts) return;
    const open = this.#results.status === "open";
    const points = timelineSeries(this.#results.timeline, this.#timelineScale, { open });
    this.#charts.timeline.update(points, this.#timelineScale);
  }

  #setTimelineScale(scale) {
    this.#timelineScale = scale;
    ui.timelineSeconds.setAttribute("aria-pressed", String(scale === "seconds"));
    ui.timelineMinutes.setAttribute("aria-pressed", String(scale === "minutes"));
    ui.timelineCaption.textContent = scale === "seconds"
      ? "Votes per second, last 5 minutes"
      : "Votes per minute, since the poll opened";
    this.#renderTimeline();
  }

  async #export() {
    const pollId = this.polls.selected;
    if (!pollId) return;
    ui.exportCsv.disabled = true;
    try {
      const problem = await downloadResults(this.api, pollId);
      if (problem) notify(problem, "error");
    } finally {
      ui.exportCsv.disabled = false;
    }
  }
}

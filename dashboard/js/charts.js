// The two charts of the dashboard, drawn by Chart.js (pinned in package.json, copied to vendor/ by the build and
// loaded as a classic script before this module runs). This file only shapes the API's figures for it.
import { colour } from "./palette.js";
import { clockTime, percent } from "./ui.js";

const { Chart } = window;

const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
const INK = "#1b1f2a";
const GRID = "rgba(27, 31, 42, 0.12)";

if (Chart) {
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = INK;
  Chart.defaults.borderColor = GRID;
}

export function chartsAvailable() {
  return Boolean(Chart);
}

// Chart text follows the page's type size, which grows on wide screens.
function basePx() {
  return parseFloat(getComputedStyle(document.body).fontSize) || 16;
}

// A label cut into lines no wider than maxWidth (as measure(text) says, in px): at spaces, and inside a word that is
// wider than a line by itself. Chart.js draws each line of an axis label as given; it never wraps one.
export function wrapLabel(text, maxWidth, measure) {
  const lines = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const longer = line ? `${line} ${word}` : word;
    if (measure(longer) <= maxWidth) {
      line = longer;
      continue;
    }
    if (line) lines.push(line);
    let rest = word;
    while (rest.length > 1 && measure(rest) > maxWidth) {
      let cut = rest.length - 1;
      while (cut > 1 && measure(rest.slice(0, cut)) > maxWidth) cut--;
      lines.push(rest.slice(0, cut));
      rest = rest.slice(cut);
    }
    line = rest;
  }
  if (line) lines.push(line);
  return lines.length ? lines : [""];
}

// At most this share of the chart's width goes to the labels; the rest is the bars'.
const LABEL_SHARE = 0.4;

export class BarsChart {
  #chart;
  #width = 0; // the width the labels were cut for

  constructor(canvas) {
    this.#chart = new Chart(canvas, {
      type: "bar",
      data: { labels: [], datasets: [{ data: [], backgroundColor: [], borderRadius: 4, maxBarThickness: 64 }] },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        // Chart.js puts off a resize that comes during an animation until the next draw, and an animation's last
        // frame draws nothing: a window resized in that frame kept the old width until the next vote. Measure
        // again once each animation is done (a no-op when the size is unchanged).
        animation: reducedMotion ? false : { duration: 300, onComplete: ({ chart }) => chart.resize() },
        // A new width cuts the labels again (after this resize, not inside it).
        onResize: (_chart, size) => {
          if (Math.round(size.width) !== this.#width) requestAnimationFrame(() => this.update(this.candidates));
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: (items) => this.candidates[items[0].dataIndex]?.label ?? "",
              label: (item) => {
                const c = this.candidates[item.dataIndex];
                return c ? `${c.votes.toLocaleString()} votes (${percent(c.share)})` : "";
              },
            },
          },
        },
        scales: {
          x: { beginAtZero: true, ticks: { precision: 0 }, grid: { color: GRID } },
          y: { grid: { display: false }, ticks: { autoSkip: false, font: { size: 15, weight: "600" }, color: INK } },
        },
      },
    });
    this.candidates = [];
  }

  update(candidates) {
    this.candidates = candidates;
    const chart = this.#chart;
    const base = basePx();
    const size = Math.round(base * 0.9);
    const scales = chart.options.scales;
    scales.y.ticks.font.size = size;
    scales.x.ticks.font = { size: Math.round(base * 0.75) };
    // Each bar's label, cut to lines that leave most of the width to the bars, then "12 · 40%".
    this.#width = Math.round(chart.width || chart.canvas.parentElement.clientWidth);
    const context = chart.ctx;
    context.save();
    context.font = `600 ${size}px ${Chart.defaults.font.family}`;
    const measure = (text) => context.measureText(text).width;
    const labels = candidates.map((c) => [...wrapLabel(c.label, Math.max(6 * size, this.#width * LABEL_SHARE), measure),
      `${c.votes.toLocaleString()} · ${percent(c.share)}`]);
    context.restore();
    const data = chart.data;
    data.labels = labels;
    data.datasets[0].data = candidates.map((c) => c.votes);
    data.datasets[0].backgroundColor = candidates.map((_, i) => colour(i));
    // Every row as tall as the tallest label, and a bar in it that stays thick enough to read.
    const lines = Math.max(2, ...labels.map((label) => label.length));
    const row = Math.max(base * 3.3, lines * size * 1.25 + base * 0.9);
    chart.canvas.parentElement.style.height = `${Math.max(180, Math.round(candidates.length * row + base * 2.5))}px`;
    // The canvas takes its box's new height now, not when Chart.js's resize observer next runs: until then a canvas
    // taller than its box (12 candidates before, 2 now) would lie over the cards below it and take their clicks.
    chart.resize();
    chart.update();
  }

  destroy() {
    this.#chart.destroy();
  }
}

// The API's timeline is minute buckets from the poll's start, then second buckets for the last five minutes.
// "seconds": the second buckets, carried on with zeros up to now while the poll is open (an unchanged ETag means
// no new vote, so those seconds had none). "minutes": everything summed per minute.
export function timelineSeries(timeline, scale, { now = Date.now(), open = false } = {}) {
  if (scale === "seconds") {
    const points = timeline.filter((p) => p.seconds === 1).map((p) => ({ t: Date.parse(p.t), votes: p.votes }));
    if (open && points.length) {
      const end = now - (now % 1000);
      let last = points[points.length - 1].t;
      for (let guard = 0; last < end && guard < 600; guard++) {
        last += 1000;
        points.push({ t: last, votes: 0 });
      }
    }
    return points.slice(-300);
  }
  const perMinute = new Map();
  for (const p of timeline) {
    const t = Date.parse(p.t);
    const minute = t - (t % 60_000);
    perMinute.set(minute, (perMinute.get(minute) ?? 0) + p.votes);
  }
  return [...perMinute].sort((a, b) => a[0] - b[0]).map(([t, votes]) => ({ t, votes }));
}

const minuteFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

export class TimelineChart {
  #chart;

  constructor(canvas) {
    this.#chart = new Chart(canvas, {
      type: "bar",
      data: { labels: [], datasets: [{ label: "Votes", data: [], backgroundColor: "#0072B2", barPercentage: 1, categoryPercentage: 0.9,
        maxBarThickness: 48 }] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: false } },
        scales: {
          x: { grid: { display: false }, ticks: { autoSkip: true, maxTicksLimit: 8, maxRotation: 0 } },
          y: { beginAtZero: true, ticks: { precision: 0 }, grid: { color: GRID } },
        },
      },
    });
  }

  update(points, scale) {
    const label = scale === "seconds" ? (t) => clockTime(t) : (t) => minuteFormat.format(new Date(t));
    const data = this.#chart.data;
    const labels = points.map((p) => label(p.t));
    const size = Math.round(basePx() * 0.75);
    const scales = this.#chart.options.scales;
    if (scales.x.ticks.font?.size !== size) {
      scales.x.ticks.font = { size };
      scales.y.ticks.font = { size };
      data.labels = []; // forces the redraw below
    }
    const votes = points.map((p) => p.votes);
    if (labels.join() === data.labels.join() && votes.join() === data.datasets[0].data.join()) return;
    data.labels = labels;
    data.datasets[0].data = votes;
    this.#chart.update();
  }

  destroy() {
    this.#chart.destroy();
  }
}

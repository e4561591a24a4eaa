// The two charts of the dashboard, drawn by Chart.js (pinned in package.json, copied to vendor/ by the build and
// loaded as a classic script before this module runs). This file only shapes the API's figures for it.
import { clockTime, percent } from "./ui.js";

const { Chart } = window;

// Okabe-Ito: told apart by people with any common colour-vision deficiency, and on a washed-out projector.
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#4D4D4D", "#B8A200"];
export const colour = (index) => PALETTE[index % PALETTE.length];

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

// Chart text follows the page's type size, which grows on wide screens and in presentation view.
function basePx() {
  return parseFloat(getComputedStyle(document.body).fontSize) || 16;
}

export class BarsChart {
  #chart;

  constructor(canvas) {
    this.#chart = new Chart(canvas, {
      type: "bar",
      data: { labels: [], datasets: [{ data: [], backgroundColor: [], borderRadius: 4, maxBarThickness: 64 }] },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        animation: reducedMotion ? false : { duration: 300 },
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
          y: { grid: { display: false }, ticks: { font: { size: 15, weight: "600" }, color: INK } },
        },
      },
    });
    this.candidates = [];
  }

  update(candidates) {
    this.candidates = candidates;
    const data = this.#chart.data;
    // Two lines per bar: the label, then "12 · 40%", readable from the back of the room.
    data.labels = candidates.map((c) => [c.label, `${c.votes.toLocaleString()} · ${percent(c.share)}`]);
    data.datasets[0].data = candidates.map((c) => c.votes);
    data.datasets[0].backgroundColor = candidates.map((_, i) => colour(i));
    const base = basePx();
    const scales = this.#chart.options.scales;
    scales.y.ticks.font.size = Math.round(base * 0.9);
    scales.x.ticks.font = { size: Math.round(base * 0.75) };
    this.#chart.canvas.parentElement.style.height =
      `${Math.max(180, Math.round(candidates.length * base * 3.3 + base * 2.5))}px`;
    this.#chart.update();
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

// One poll's results, asked for once a second while the page is visible (every 5 s in a background tab), each ask
// conditional (Api.request: an unchanged result costs a 304), with capped, jittered backoff while the API is away.
import { OfflineError, errorMessage } from "./api.js";

const EVERY_MS = 1000; // while the page is visible
const HIDDEN_EVERY_MS = 5000; // in a background tab, and after a refusal
const BACKOFF_MAX_MS = 8000;
const REQUEST_TIMEOUT_MS = 5000;

// onResults(reply) gets each 200; onRefused(reply) an answer that is not one (but not a 401 after the session
// ended: signing out stops the feed); onAway({nextTryAt, failures}) a lost or overloaded API.
export class ResultsFeed {
  #generation = 0;
  #timer = null;
  #controller = null;
  #failures = 0;
  #inFlight = false;
  #kickAfter = false;
  pollId = null;

  constructor({ api, auth, onResults, onRefused, onAway }) {
    Object.assign(this, { api, auth, onResults, onRefused, onAway });
  }

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
    this.#inFlight = true;
    let delay;
    try {
      delay = await this.#ask(generation);
    } finally {
      if (generation === this.#generation) this.#inFlight = false;
    }
    if (generation !== this.#generation || delay === null) return;
    if (this.#kickAfter) {
      this.#kickAfter = false;
      delay = 0;
    } else if (this.#failures === 0) {
      delay = Math.max(0, delay - (performance.now() - started)); // a steady rate, whatever the latency
    }
    this.#timer = setTimeout(() => this.#run(generation), delay);
  }

  // One ask: the wait before the next, or null when there is to be none.
  async #ask(generation) {
    const steady = document.hidden ? HIDDEN_EVERY_MS : EVERY_MS;
    this.#controller = new AbortController();
    const timeout = setTimeout(() => this.#controller.abort(new DOMException("No answer in time", "TimeoutError")),
      REQUEST_TIMEOUT_MS);
    try {
      const reply = await this.api.get(`/polls/${encodeURIComponent(this.pollId)}/results`,
        { signal: this.#controller.signal }); // conditional: see Api.request
      if (generation !== this.#generation) return null;
      if (reply.status === 429 || reply.status >= 500) throw new OfflineError(errorMessage(reply));
      this.#failures = 0;
      if (reply.status === 200) {
        this.onResults(reply);
      } else if (reply.status === 401 && !this.auth.signedIn) {
        return null; // the session is over; signing out has stopped this feed
      } else {
        this.onRefused(reply);
        return HIDDEN_EVERY_MS;
      }
      return steady;
    } catch (error) {
      if (generation !== this.#generation || error.name === "AbortError") return null;
      this.#failures++;
      const delay = Math.min(EVERY_MS * 2 ** (this.#failures - 1), BACKOFF_MAX_MS) * (0.85 + Math.random() * 0.3);
      this.onAway({ nextTryAt: Date.now() + delay, failures: this.#failures });
      return delay;
    } finally {
      clearTimeout(timeout);
    }
  }
}

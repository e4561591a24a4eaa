// A poll's public document (GET /public/polls/{poll_id}: openapi.yaml, PublicPoll), read again and again for an audience:
// no token, so the request is a simple GET with no preflight, and a CDN (CloudFront on AWS) answers it for every
// viewer but about one a second. Each read revalidates the browser's copy (cache "no-cache": If-None-Match with the
// ETag it holds; a 304 reaches the page as the held 200). The default mode would let the browser answer from its
// own copy while the document's max-age lasts, and with stale-while-revalidate hand the page the previous copy
// while it fetches the next: every change shown a read late.
//
// Reads are jittered (viewers who opened the page together do not ask together), paused while the tab is hidden
// (Page Visibility), backed off while the API is away, and stopped once a closed poll's result is final.

const BACKOFF_MAX_MS = 8000;
const REQUEST_TIMEOUT_MS = 5000;
export const publicPollPath = (pollId) => `/public/polls/${encodeURIComponent(pollId)}`;

// Milliseconds until the next read: uniformly in [min, max).
export function jittered([min, max], random = Math.random) {
  return min + random() * (max - min);
}

export class PublicPollFeed {
  #url;
  #everyMs;
  #onDocument;
  #onProblem;
  #timer = null;
  #controller = null;
  #generation = 0;
  #failures = 0;
  #text = "";
  #stopped = true;
  #final = false;

  /** onDocument(doc, {changed}) for each answer; onProblem({kind: "missing" | "refused" | "offline", status,
   *  message, retryInMs}) when there is none to show. everyMs(doc) gives the [min, max) wait after a document. */
  constructor(apiUrl, pollId, { onDocument, onProblem = () => {}, everyMs = () => [1000, 2000] }) {
    this.#url = apiUrl + publicPollPath(pollId);
    this.#onDocument = onDocument;
    this.#onProblem = onProblem;
    this.#everyMs = everyMs;
    this.onVisibility = () => {
      if (document.hidden) this.#pause();
      else this.kick();
    };
  }

  get final() {
    return this.#final;
  }

  start() {
    this.#stopped = false;
    document.addEventListener("visibilitychange", this.onVisibility);
    this.kick();
  }

  stop() {
    this.#stopped = true;
    document.removeEventListener("visibilitychange", this.onVisibility);
    this.#pause();
  }

  // Read now rather than at the next tick.
  kick() {
    if (this.#stopped || this.#final || document.hidden) return;
    this.#pause();
    this.#read(this.#generation);
  }

  #pause() {
    this.#generation++;
    clearTimeout(this.#timer);
    this.#controller?.abort();
  }

  async #read(generation) {
    this.#controller = new AbortController();
    const timeout = setTimeout(() => this.#controller.abort(), REQUEST_TIMEOUT_MS);
    let delay;
    try {
      const reply = await fetch(this.#url, { signal: this.#controller.signal, mode: "cors", cache: "no-cache" });
      const text = await reply.text();
      if (generation !== this.#generation) return;
      if (reply.status === 200) {
        this.#failures = 0;
        const doc = JSON.parse(text);
        const changed = text !== this.#text;
        this.#text = text;
        // A closed poll's document says when every ballot is counted: then it cannot change again.
        this.#final = doc.final === true;
        this.#onDocument(doc, { changed });
        if (this.#final) return;
        delay = jittered(this.#everyMs(doc));
      } else if (reply.status === 404 || reply.status === 400) {
        // An unknown or malformed id: said once, then asked about rarely (a poll may yet be made with that id).
        this.#text = "";
        delay = 15_000 * (0.85 + Math.random() * 0.3);
        this.#onProblem({ kind: "missing", status: reply.status, message: messageOf(text), retryInMs: delay });
      } else {
        throw Object.assign(new Error(messageOf(text) || `The API answered ${reply.status}.`),
          { status: reply.status });
      }
    } catch (error) {
      if (generation !== this.#generation) return;
      this.#failures++;
      delay = Math.min(1000 * 2 ** (this.#failures - 1), BACKOFF_MAX_MS) * (0.85 + Math.random() * 0.3);
      this.#onProblem({ kind: error.status ? "refused" : "offline", status: error.status ?? null,
        message: error.status ? error.message : "No answer from the Tally API.", retryInMs: delay });
    } finally {
      clearTimeout(timeout);
    }
    if (generation === this.#generation && !this.#stopped) {
      this.#timer = setTimeout(() => this.#read(generation), delay);
    }
  }
}

function messageOf(text) {
  try {
    return JSON.parse(text)?.Message ?? "";
  } catch {
    return "";
  }
}

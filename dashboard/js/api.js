// The Tally API (openapi.yaml), with the signed-in user's ID token. Every answer comes back as
// {status, body, text, headers}; only a request that never got an answer throws (OfflineError).

export class OfflineError extends Error {}

export class Api {
  #base;
  #auth;

  constructor(baseUrl, auth) {
    this.#base = baseUrl;
    this.#auth = auth;
  }

  get(path, options) {
    return this.request("GET", path, undefined, options);
  }

  post(path, body, options) {
    return this.request("POST", path, body ?? {}, options);
  }

  // Conditional requests come from the browser's HTTP cache: the API sends its results with an ETag and
  // "Cache-Control: no-cache", so the browser keeps them but asks before each use, sending If-None-Match with
  // the tag it holds; the API answers 304 with no body and the page gets the held body back as a 200. (The API's
  // CORS settings let the page send If-None-Match and read ETag itself (app.py); it leaves both to the browser's
  // cache, which keeps the body as well.)
  // The cache mode stays "default" on purpose: Chromium skips its CORS preflight cache for "no-cache" and
  // "no-store" requests, which would add an OPTIONS round trip to every request. Answers without validators
  // or freshness (everything but results) are never reused by the browser.
  async request(method, path, body, { cache = "default", signal } = {}) {
    for (let attempt = 0; ; attempt++) {
      const token = await this.#auth.idToken().catch(() => {
        throw new OfflineError("Cannot reach the sign-in service to renew the session.");
      });
      if (!token) return { status: 401, body: { Code: "UnauthorizedError", Message: "Sign in first." } };
      const headers = { Authorization: `Bearer ${token}` };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      let reply;
      try {
        reply = await fetch(this.#base + path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          cache,
          signal,
          mode: "cors",
        });
      } catch (error) {
        if (error.name === "AbortError") throw error;
        throw new OfflineError("No answer from the Tally API.");
      }
      const text = await reply.text();
      let parsed = null;
      try {
        // A file (GET /polls/{id}/results.csv) is its text alone; everything else the API says is JSON.
        parsed = text && !/^text\/csv\b/i.test(reply.headers.get("Content-Type") ?? "") ? JSON.parse(text) : null;
      } catch {
        parsed = { Code: "BadResponse", Message: `The API answered ${reply.status} with something that is not JSON.` };
      }
      if (reply.status === 401 && attempt === 0) {
        // An expired or revoked token: renew once and try again; if the session is over, auth says so.
        let renewed;
        try {
          renewed = await this.#auth.refresh();
        } catch {
          throw new OfflineError("Cannot reach the sign-in service to renew the session.");
        }
        if (renewed) continue;
      }
      return { status: reply.status, body: parsed, text, headers: reply.headers };
    }
  }
}

export function errorMessage(reply) {
  return reply?.body?.Message || `The API answered ${reply?.status}.`;
}

// How long the API asked us to wait before asking again (a 429's or 503's Retry-After), in milliseconds: the
// header holds seconds or an HTTP date. Null when there is none or it cannot be read. The browser shows it to the
// page only because the API's CORS settings expose it (app.py).
export function retryAfterMs(reply) {
  const value = reply?.headers?.get("Retry-After")?.trim();
  if (!value) return null;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

// Capped exponential backoff with full jitter: a random wait in [0, min(cap, base * 2^attempt)], so that many
// clients refused at the same moment do not all come back at the same moment.
export function backoffMs(attempt, { baseMs = 250, capMs = 8000 } = {}) {
  return Math.random() * Math.min(capMs, baseMs * 2 ** attempt);
}

// Sends a request until an answer settles it: {reply, retried}. A 429, a 5xx or a lost connection (OfflineError,
// or no answer within attemptTimeoutMs) is sent again after backoffMs, never sooner than the API's Retry-After;
// null once giveUpMs has gone by without a settling answer, or when the next wait would end after that. Only for
// requests the API takes twice safely (a vote, a roll batch). send(signal, attempt) makes one attempt;
// onRetry({why: "busy" | "offline", waitMs, attempt, reply}) is told before each wait.
export async function sendSettled(send, {
  giveUpMs = 30_000, attemptTimeoutMs = 10_000, baseMs = 250, capMs = 8000, onRetry = () => {},
} = {}) {
  const deadline = Date.now() + giveUpMs;
  for (let attempt = 0; ; attempt++) {
    let reply = null;
    let why;
    try {
      const timeout = Math.max(1000, Math.min(attemptTimeoutMs, deadline - Date.now()));
      reply = await send(AbortSignal.timeout(timeout), attempt);
      if (reply.status !== 429 && reply.status < 500) return { reply, retried: attempt > 0 };
      why = "busy";
    } catch (error) {
      if (!(error instanceof OfflineError)) throw error;
      why = "offline";
    }
    const waitMs = Math.max(backoffMs(attempt, { baseMs, capMs }), retryAfterMs(reply) ?? 0);
    if (Date.now() + waitMs >= deadline) return null;
    onRetry({ why, waitMs, attempt, reply });
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}

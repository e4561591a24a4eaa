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
  // the tag it holds; the API answers 304 with no body and the page gets the held body back as a 200. (The page
  // cannot send If-None-Match itself: the API's CORS settings neither allow that header nor expose ETag.)
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
        parsed = text ? JSON.parse(text) : null;
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

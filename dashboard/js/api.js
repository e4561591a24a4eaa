// The Tally API (openapi.yaml), with the signed-in user's ID token. Every answer comes back as
// {status, body}; only a request that never got an answer throws (OfflineError).

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
      return { status: reply.status, body: parsed, text };
    }
  }
}

export function errorMessage(reply) {
  return reply?.body?.Message || `The API answered ${reply?.status}.`;
}

// Cognito sign-in from the browser, with no SDK: the user pool's JSON API, as the AWS SDKs call it.
//   InitiateAuth USER_PASSWORD_AUTH   sign in (the app client allows it and has no secret)
//   InitiateAuth REFRESH_TOKEN_AUTH   a new ID token before the old one expires
//   GlobalSignOut                     on sign-out, so the refresh token stops working too
// Tokens live in sessionStorage: they last as long as the tab, and a reload keeps the session.

const TARGET_PREFIX = "AWSCognitoIdentityProviderService.";
const REFRESH_AHEAD_MS = 5 * 60_000; // refresh this long before the ID token expires
const REFRESH_RETRY_MS = 15_000; // after a refresh that could not reach Cognito

export class AuthError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

// Cognito's exception names, in words a person can act on.
const EXPLAINED = {
  NotAuthorizedException: "Wrong username or password.",
  UserNotFoundException: "Wrong username or password.",
  PasswordResetRequiredException: "This account needs a new password first. Ask an operator to reset it.",
  UserNotConfirmedException: "This account is not confirmed yet. Ask an operator to confirm it.",
  TooManyRequestsException: "Too many sign-in attempts. Wait a minute, then try again.",
  LimitExceededException: "Too many sign-in attempts. Wait a minute, then try again.",
  InvalidParameterException: "Enter a username and a password.",
};

export function decodeJwt(token) {
  const part = token.split(".")[1] ?? "";
  const base64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

export class Auth extends EventTarget {
  #config;
  #key;
  #tokens = null;
  #timer = null;
  #refreshing = null;

  constructor(config, storageKey) {
    super();
    this.#config = config;
    this.#key = storageKey;
    try {
      this.#tokens = JSON.parse(sessionStorage.getItem(storageKey) || "null");
    } catch {
      this.#tokens = null;
    }
    if (this.#tokens && !this.#tokens.refreshToken) this.#tokens = null;
    this.#schedule();
  }

  get signedIn() {
    return this.#tokens !== null;
  }

  get claims() {
    return this.#tokens ? decodeJwt(this.#tokens.idToken) : {};
  }

  get username() {
    const claims = this.claims;
    return claims["cognito:username"] || claims.username || claims.email || claims.sub || "";
  }

  get groups() {
    return this.claims["cognito:groups"] || [];
  }

  get expiresAt() {
    return this.#tokens?.expiresAt ?? 0;
  }

  async signIn(username, password) {
    const reply = await this.#call("InitiateAuth", {
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: this.#config.clientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    });
    if (reply.ChallengeName || !reply.AuthenticationResult) {
      throw new AuthError(reply.ChallengeName || "NoTokens",
        "This account must set a new password before it can sign in here. Ask an operator.");
    }
    this.#store(reply.AuthenticationResult);
    this.#changed("");
  }

  // A valid ID token, refreshed first if it is about to expire; null when signed out.
  async idToken() {
    if (!this.#tokens) return null;
    if (Date.now() > this.#tokens.expiresAt - 30_000) await this.refresh();
    return this.#tokens?.idToken ?? null;
  }

  // true: new tokens; false: the session is over (signed out). Throws only when Cognito could not be reached.
  refresh() {
    if (!this.#tokens) return Promise.resolve(false);
    this.#refreshing ??= (async () => {
      try {
        const reply = await this.#call("InitiateAuth", {
          AuthFlow: "REFRESH_TOKEN_AUTH",
          ClientId: this.#config.clientId,
          AuthParameters: { REFRESH_TOKEN: this.#tokens.refreshToken },
        });
        this.#store({ RefreshToken: this.#tokens.refreshToken, ...reply.AuthenticationResult });
        this.dispatchEvent(new Event("refresh"));
        return true;
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        this.signOut("Your session has ended. Sign in again.");
        return false;
      } finally {
        this.#refreshing = null;
      }
    })();
    return this.#refreshing;
  }

  signOut(reason = "") {
    const accessToken = this.#tokens?.accessToken;
    this.#tokens = null;
    sessionStorage.removeItem(this.#key);
    clearTimeout(this.#timer);
    if (accessToken) {
      // Ends the refresh token too; the ID token lapses on its own within the hour. Best effort: signing out
      // of this page does not wait for it or depend on it.
      this.#call("GlobalSignOut", { AccessToken: accessToken }).catch(() => {});
    }
    this.#changed(reason);
  }

  #store(result) {
    const idToken = result.IdToken;
    const claims = decodeJwt(idToken);
    const expiresAt = claims.exp ? claims.exp * 1000 : Date.now() + (result.ExpiresIn ?? 3600) * 1000;
    this.#tokens = { idToken, accessToken: result.AccessToken, refreshToken: result.RefreshToken, expiresAt };
    sessionStorage.setItem(this.#key, JSON.stringify(this.#tokens));
    this.#schedule();
  }

  #schedule(delay) {
    clearTimeout(this.#timer);
    if (!this.#tokens) return;
    const lifetime = this.#tokens.expiresAt - Date.now();
    const due = delay ?? Math.max(1000, lifetime - Math.min(REFRESH_AHEAD_MS, lifetime / 2));
    this.#timer = setTimeout(() => {
      this.refresh().catch(() => this.#schedule(REFRESH_RETRY_MS));
    }, Math.min(due, 2 ** 31 - 1));
  }

  #changed(reason) {
    this.dispatchEvent(new CustomEvent("change", { detail: { reason } }));
  }

  async #call(action, body) {
    let reply;
    try {
      reply = await fetch(this.#config.cognitoEndpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": TARGET_PREFIX + action,
        },
        body: JSON.stringify(body),
        cache: "no-store",
      });
    } catch {
      throw new Error("Cannot reach the sign-in service. Check the connection and try again.");
    }
    const data = await reply.json().catch(() => ({}));
    if (reply.ok) return data;
    const code = String(data.__type || data.code || "Error").split("#").pop();
    if (reply.status >= 500) throw new Error("The sign-in service is not answering right now. Try again shortly.");
    throw new AuthError(code, EXPLAINED[code] || data.message || data.Message || `Sign-in failed (${code}).`);
  }
}

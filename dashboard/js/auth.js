// Cognito sign-in from the browser, through amazon-cognito-identity-js (pinned in package-lock.json and copied into
// vendor/ by `make dashboard`; its UMD build is loaded by the page before this module, as AmazonCognitoIdentity).
//   InitiateAuth USER_SRP_AUTH, then RespondToAuthChallenge PASSWORD_VERIFIER: sign in. The password never leaves
//       the page: it proves it knows the password (SRP), and the app client offers browsers no password flow.
//   RespondToAuthChallenge SOFTWARE_TOKEN_MFA: the 6-digit code of an authenticator app, when the account has one.
//   InitiateAuth REFRESH_TOKEN_AUTH: a new ID token before the old one expires, and at once after a 401.
//   GlobalSignOut: on sign-out, so the refresh token stops working too.
//   AssociateSoftwareToken, VerifySoftwareToken, SetUserMFAPreference: an operator sets up an authenticator app.
//   RespondToAuthChallenge NEW_PASSWORD_REQUIRED: an invited account chooses its own password at first sign-in (only
//       for a page that asks for it: new Auth(config, key, {newPassword: true})).
//   SignUp, ConfirmSignUp, ResendConfirmationCode: a voter makes their own account (email, password, emailed code).
//   ForgotPassword, ConfirmForgotPassword: a new password with a code mailed to the account's verified email.
//   DeleteUser: a signed-in voter deletes their own account.
// Tokens live in sessionStorage (the library's Storage, under this page's own key): they last as long as the tab,
// and a reload keeps the session. A page made with {persist: true} (the vote page) keeps them in localStorage
// instead: every tab of the device shares the session, for the refresh token's life, until sign-out clears it.

const REFRESH_AHEAD_MS = 5 * 60_000; // refresh this long before the ID token expires
const REFRESH_RETRY_MS = 15_000; // after a refresh that could not reach Cognito
const TOTP = "SOFTWARE_TOKEN_MFA";

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
  CodeMismatchException: "That code is not the one the authenticator app shows now. Enter the current code.",
  EnableSoftwareTokenMFAException: "That code is not the one the authenticator app shows now. Enter the current code.",
  ExpiredCodeException: "That code has expired. Enter the current one.",
  UsernameExistsException: "There is already an account with this email. Sign in, or use “Forgot password?”.",
  InvalidPasswordException: "Cognito refused that password: it needs 12 or more characters, with an upper-case " +
    "letter, a lower-case letter, a digit and a symbol, and no space at either end.",
};
// The same names, when they answer a code sent by email (sign-up, a forgotten password) rather than an app's code.
const EMAILED_CODE = {
  CodeMismatchException: "That code is not the one in the email. Check the latest email from Tally and try again.",
  ExpiredCodeException: "That code has expired. Ask for a new one.",
  LimitExceededException: "Too many attempts for this account. Wait a while, then try again.",
  TooManyFailedAttemptsException: "Too many wrong codes. Wait a while, then ask for a new one.",
  NotAuthorizedException: "This account cannot take a code now: it may be confirmed already. Try signing in.",
  UserNotFoundException: "There is no account with this email. Check it, or create an account.",
};
// Answers that mean the session is over (as opposed to Cognito being out of reach, or busy).
const SESSION_OVER = new Set(["NotAuthorizedException", "UserNotFoundException", "PasswordResetRequiredException",
  "UserNotConfirmedException", "InvalidParameterException"]);

// The library's error, as an AuthError a page can show (or a plain Error when Cognito could not be reached).
function explain(error, overrides = {}) {
  const code = typeof error?.code === "string" ? error.code : "";
  if (code === "NetworkError" || error instanceof TypeError || (!code && error?.message === "Network error")) {
    return new Error("Cannot reach the sign-in service. Check the connection and try again.");
  }
  if (!code) return new AuthError("Error", error?.message || "Sign-in failed."); // the library's own refusal
  if (/^(InternalError|ServiceUnavailable)/.test(code)) {
    return new Error("The sign-in service is not answering right now. Try again shortly.");
  }
  return new AuthError(code, overrides[code] || EXPLAINED[code] || error.message || `Sign-in failed (${code}).`);
}

// sessionStorage (or localStorage) under one prefix per page, in the shape the library's Storage option takes.
class TabStorage {
  #prefix;
  #store;

  constructor(prefix, store = sessionStorage) {
    this.#prefix = `${prefix}.`;
    this.#store = store;
  }

  get store() {
    return this.#store;
  }

  owns(key) {
    return key === null || key.startsWith(this.#prefix);
  }

  getItem(key) {
    return this.#store.getItem(this.#prefix + key);
  }

  setItem(key, value) {
    this.#store.setItem(this.#prefix + key, value);
  }

  removeItem(key) {
    this.#store.removeItem(this.#prefix + key);
  }

  clear() {
    for (const key of Object.keys(this.#store)) {
      if (key.startsWith(this.#prefix)) this.#store.removeItem(key);
    }
  }
}

// A Storage that is never written to the tab (for the global sign-out of a session this page has let go of).
class MemoryStorage {
  #items = new Map();
  getItem(key) { return this.#items.get(key) ?? null; }
  setItem(key, value) { this.#items.set(key, String(value)); }
  removeItem(key) { this.#items.delete(key); }
  clear() { this.#items.clear(); }
}

function cognitoLibrary() {
  const library = globalThis.AmazonCognitoIdentity;
  if (!library) {
    throw new Error("The sign-in library did not load (dashboard/vendor/ is built by `make dashboard`).");
  }
  return library;
}

export class Auth extends EventTarget {
  #lib;
  #pool;
  #storage;
  #user = null; // the library's CognitoUser, signed in
  #session = null; // its CognitoUserSession
  #challenged = null; // a CognitoUser waiting for its authenticator code, or for a new password
  #newPassword; // whether this page lets an invited account choose its password (else it is told to ask)
  #timer = null;
  #refreshing = null;

  constructor(config, storageKey, { newPassword = false, persist = false } = {}) {
    super();
    this.#newPassword = newPassword;
    this.#lib = cognitoLibrary();
    this.#storage = new TabStorage(storageKey, persist ? localStorage : sessionStorage);
    if (persist) window.addEventListener("storage", (event) => this.#otherTab(event));
    this.#pool = new this.#lib.CognitoUserPool({
      UserPoolId: config.userPoolId,
      ClientId: config.clientId,
      endpoint: config.cognitoEndpoint, // moto's URL locally; Cognito's regional endpoint on AWS
      Storage: this.#storage,
    });
  }

  // Picks up the session this tab already has (after a reload), renewed first if it has expired. Resolves to why
  // there is no session ("" when signed in, or when there was none): a session Cognito has ended is forgotten;
  // one that could not be renewed for want of a connection is kept in the tab, for a reload to try again.
  restore() {
    const user = this.#pool.getCurrentUser();
    if (!user) return Promise.resolve("");
    return new Promise((resolve) => {
      user.getSession((error, session) => {
        if (!error && session) {
          this.#use(user, session);
          resolve("");
          return;
        }
        const problem = explain(error);
        if (problem instanceof AuthError) {
          user.clearCachedUser();
          this.#storage.clear();
          resolve("Your session has ended. Sign in again.");
        } else {
          resolve(problem.message);
        }
      });
    });
  }

  get signedIn() {
    return this.#session !== null;
  }

  // The account is waiting for its authenticator app's code (after signIn answered "totp").
  get challenged() {
    return this.#challenged !== null;
  }

  get claims() {
    return this.#session ? this.#session.getIdToken().decodePayload() : {};
  }

  get username() {
    const claims = this.claims;
    return claims["cognito:username"] || claims.username || claims.email || claims.sub || "";
  }

  get groups() {
    return this.claims["cognito:groups"] || [];
  }

  // When the ID (or access) token expires, on this browser's clock: the library measures the drift between the
  // browser's clock and Cognito's at sign-in, so a phone whose clock is off still refreshes in time.
  get expiresAt() {
    if (!this.#session) return 0;
    const expires = Math.min(this.#session.getIdToken().getExpiration(),
      this.#session.getAccessToken().getExpiration());
    return (expires + this.#session.getClockDrift()) * 1000;
  }

  // Sign in with SRP. Resolves to "signed-in", or to "totp" when the account has an authenticator app: then
  // sendTotpCode(code) finishes the sign-in; or, on a page made with {newPassword: true}, to "new-password" when
  // the account was invited with a temporary password: then completeNewPassword(password) finishes it.
  signIn(username, password) {
    const user = new this.#lib.CognitoUser({ Username: username, Pool: this.#pool, Storage: this.#storage });
    user.setAuthenticationFlowType("USER_SRP_AUTH");
    const details = new this.#lib.AuthenticationDetails({ Username: username, Password: password });
    this.#challenged = null;
    return new Promise((resolve, reject) => user.authenticateUser(details, this.#callbacks(user, resolve, reject)));
  }

  sendTotpCode(code) {
    const user = this.#challenged;
    if (!user) return Promise.reject(new AuthError("NoChallenge", "Sign in again."));
    return new Promise((resolve, reject) => user.sendMFACode(code, this.#callbacks(user, resolve, reject, {
      NotAuthorizedException: "The sign-in took too long. Sign in again.",
    }), TOTP));
  }

  // Back to the username and password (the code step is abandoned).
  cancelChallenge() {
    this.#challenged = null;
  }

  completeNewPassword(password) {
    const user = this.#challenged;
    if (!user) return Promise.reject(new AuthError("NoChallenge", "Sign in again."));
    // No attributes are sent back: the invitation set the email, and the app client writes nothing else.
    return new Promise((resolve, reject) => user.completeNewPasswordChallenge(password, {},
      this.#callbacks(user, resolve, reject, {
        NotAuthorizedException: "The sign-in took too long. Sign in again with the password from the invitation.",
      })));
  }

  // ---- accounts a voter makes and looks after themselves ---------------------------------------------------

  // Resolves to {confirmed, destination}: destination is where Cognito sent the code (masked, e.g. "n***@e***"),
  // or "" when it sent none.
  signUp(email, password) {
    const attributes = [new this.#lib.CognitoUserAttribute({ Name: "email", Value: email })];
    return new Promise((resolve, reject) => this.#pool.signUp(email, password, attributes, null, (error, result) => {
      if (error) {
        reject(explain(error, {
          NotAuthorizedException: "This Tally does not let voters create accounts. Ask the organisers for an " +
            "invitation.",
          InvalidParameterException: "Enter a valid email address and a password.",
        }));
      } else {
        resolve({ confirmed: Boolean(result.userConfirmed),
          destination: result.codeDeliveryDetails?.Destination ?? "" });
      }
    }));
  }

  confirmSignUp(username, code) {
    return new Promise((resolve, reject) => this.#stranger(username).confirmRegistration(code, false,
      (error) => (error ? reject(explain(error, EMAILED_CODE)) : resolve())));
  }

  // Resolves to where the new code went (masked).
  resendSignUpCode(username) {
    return new Promise((resolve, reject) => this.#stranger(username).resendConfirmationCode((error, result) =>
      (error ? reject(explain(error, EMAILED_CODE)) : resolve(result?.CodeDeliveryDetails?.Destination ?? ""))));
  }

  // Resolves to where the code went (masked): Cognito mails it to the account's verified email only.
  forgotPassword(username) {
    return new Promise((resolve, reject) => this.#stranger(username).forgotPassword({
      onSuccess: (data) => resolve(data?.CodeDeliveryDetails?.Destination ?? ""),
      onFailure: (error) => reject(explain(error, {
        ...EMAILED_CODE,
        InvalidParameterException: "This account has no confirmed email to send a code to. Ask the organisers " +
          "to reset its password.",
        NotAuthorizedException: "This account's password cannot be reset by email. Ask the organisers.",
      })),
    }));
  }

  confirmForgotPassword(username, code, password) {
    return new Promise((resolve, reject) => this.#stranger(username).confirmPassword(code, password, {
      onSuccess: () => resolve(),
      onFailure: (error) => reject(explain(error, EMAILED_CODE)),
    }));
  }

  // Deletes the signed-in account at Cognito, then forgets the session. Ballots are not touched: they are kept
  // under a keyed pseudonym of the account's sub, which no account will have again.
  async deleteAccount(reason = "") {
    const user = await this.#current();
    await new Promise((resolve, reject) => user.deleteUser((error) => (error ? reject(explain(error)) : resolve())));
    this.#forget(reason);
  }

  // A CognitoUser for a call made before any sign-in: it keeps nothing in this tab.
  #stranger(username) {
    return new this.#lib.CognitoUser({ Username: username, Pool: this.#pool, Storage: new MemoryStorage() });
  }

  #callbacks(user, resolve, reject, overrides = {}) {
    const refuse = (code, message) => {
      this.#challenged = null;
      reject(new AuthError(code, message));
    };
    return {
      onSuccess: (session) => {
        this.#challenged = null;
        this.#use(user, session);
        this.#changed("");
        resolve("signed-in");
      },
      onFailure: (error) => {
        const problem = explain(error, overrides);
        if (problem instanceof AuthError && !["CodeMismatchException", "ExpiredCodeException"].includes(problem.code)) {
          this.#challenged = null; // a wrong code may be tried again; anything else starts over
        }
        reject(problem);
      },
      totpRequired: () => {
        this.#challenged = user;
        resolve("totp");
      },
      mfaRequired: () => refuse("SMS_MFA", "This account asks for a text-message code, which Tally does not use. " +
        "Ask an operator."),
      selectMFAType: () => refuse("SELECT_MFA_TYPE", "This account has more than one second factor, which Tally " +
        "does not offer. Ask an operator."),
      mfaSetup: () => refuse("MFA_SETUP", "This account must set up an authenticator app before it signs in, " +
        "which this page does only once signed in. Ask an operator."),
      newPasswordRequired: () => {
        if (!this.#newPassword) {
          refuse("NEW_PASSWORD_REQUIRED", "This account must set a new password before it can sign in here. " +
            "Ask an operator.");
          return;
        }
        this.#challenged = user;
        resolve("new-password");
      },
      customChallenge: () => refuse("CUSTOM_CHALLENGE", "This account asks for a sign-in step Tally does not offer."),
    };
  }

  // A valid ID token, refreshed first if it is about to expire; null when signed out.
  async idToken() {
    if (!this.#session) return null;
    if (Date.now() > this.expiresAt - 30_000) await this.refresh();
    return this.#session?.getIdToken().getJwtToken() ?? null;
  }

  // true: new tokens; false: the session is over (signed out). Throws only when Cognito could not be reached.
  refresh() {
    if (!this.#session) return Promise.resolve(false);
    this.#refreshing ??= new Promise((resolve, reject) => {
      const user = this.#user;
      user.refreshSession(this.#session.getRefreshToken(), (error, session) => {
        this.#refreshing = null;
        if (user !== this.#user) {
          resolve(false); // signed out meanwhile
        } else if (!error) {
          this.#use(user, session);
          this.dispatchEvent(new Event("refresh"));
          resolve(true);
        } else {
          const problem = explain(error);
          if (problem instanceof AuthError && SESSION_OVER.has(problem.code)) {
            this.signOut("Your session has ended. Sign in again.");
            resolve(false);
          } else {
            reject(problem);
          }
        }
      });
    });
    return this.#refreshing;
  }

  signOut(reason = "") {
    const user = this.#user;
    const session = this.#session;
    this.#forget();
    if (user && session?.isValid()) {
      // Ends the refresh token too; the ID token lapses on its own within the hour. Best effort: signing out of
      // this page does not wait for it or depend on it. A copy of the user that keeps its tokens in memory
      // makes the call, so its answer cannot touch a session this tab signs in to meanwhile.
      const leaving = new this.#lib.CognitoUser({
        Username: user.getUsername(), Pool: this.#pool, Storage: new MemoryStorage(),
      });
      leaving.setSignInUserSession(session);
      leaving.globalSignOut({ onSuccess: () => {}, onFailure: () => {} });
    }
    this.#changed(reason);
  }

  // Drops the session from this page and the tab; announces the change when given a reason to (or "").
  #forget(reason) {
    const user = this.#user;
    this.#user = null;
    this.#session = null;
    this.#challenged = null;
    this.#refreshing = null;
    clearTimeout(this.#timer);
    user?.clearCachedUser();
    this.#storage.clear();
    if (reason !== undefined) this.#changed(reason);
  }

  // ---- an authenticator app (TOTP MFA) for this account ---------------------------------------------------

  // Whether the account has an authenticator app set up (Cognito's GetUser, asked now).
  async totpEnabled() {
    const user = await this.#current();
    user.clearCachedUserData();
    const data = await new Promise((resolve, reject) => user.getUserData((error, result) =>
      (error ? reject(explain(error)) : resolve(result))));
    return (data.UserMFASettingList || []).includes(TOTP);
  }

  // Step 1: a new secret for the authenticator app (base32 text), and the otpauth:// URI apps read from a QR code.
  async startTotpSetup() {
    const user = await this.#current();
    const secret = await new Promise((resolve, reject) => user.associateSoftwareToken({
      associateSecretCode: resolve,
      onFailure: (error) => reject(explain(error)),
    }));
    const account = encodeURIComponent(this.username);
    const uri = `otpauth://totp/Tally:${account}?secret=${encodeURIComponent(secret)}&issuer=Tally` +
      "&algorithm=SHA1&digits=6&period=30";
    return { secret, uri };
  }

  // Step 2: the app's current code proves it holds the secret; then TOTP becomes this account's second factor,
  // asked at every sign-in from now on.
  async finishTotpSetup(code, deviceName = "Tally dashboard") {
    const user = await this.#current();
    await new Promise((resolve, reject) => user.verifySoftwareToken(code, deviceName, {
      onSuccess: resolve,
      onFailure: (error) => reject(explain(error)),
    }));
    await new Promise((resolve, reject) => user.setUserMfaPreference(null, { PreferredMfa: true, Enabled: true },
      (error) => (error ? reject(explain(error)) : resolve())));
    user.clearCachedUserData();
  }

  // The signed-in user, with a session the library accepts as valid (renewed first if it is about to expire).
  async #current() {
    if (!this.#session) throw new AuthError("NotSignedIn", "Sign in first.");
    if (Date.now() > this.expiresAt - 30_000 && !(await this.refresh())) {
      throw new AuthError("NotSignedIn", "Your session has ended. Sign in again.");
    }
    return this.#user;
  }

  // Another tab of this page signed in or out (a shared session, {persist: true}): this one follows, so that a
  // sign-out anywhere on the device leaves no tab signed in.
  #otherTab(event) {
    if (event.storageArea !== this.#storage.store || !this.#storage.owns(event.key)) return;
    const user = this.#pool.getCurrentUser();
    if (this.#session && (!user || user.getUsername() !== this.#user.getUsername())) {
      this.#user = null; // the other tab has cleared (or replaced) the stored session: leave it as it is
      this.#session = null;
      this.#challenged = null;
      clearTimeout(this.#timer);
      this.#changed("You have signed out in another tab.");
    } else if (!this.#session && user && event.key?.endsWith(".LastAuthUser")) {
      this.restore().then((reason) => this.#session && this.#changed(reason));
    }
  }

  #use(user, session) {
    this.#user = user;
    this.#session = session;
    this.#schedule();
  }

  #schedule(delay) {
    clearTimeout(this.#timer);
    if (!this.#session) return;
    const lifetime = this.expiresAt - Date.now();
    const due = delay ?? Math.max(1000, lifetime - Math.min(REFRESH_AHEAD_MS, lifetime / 2));
    this.#timer = setTimeout(() => {
      this.refresh().catch(() => this.#schedule(REFRESH_RETRY_MS));
    }, Math.min(due, 2 ** 31 - 1));
  }

  #changed(reason) {
    this.dispatchEvent(new CustomEvent("change", { detail: { reason } }));
  }
}

// An operator's authenticator app (TOTP MFA). An operator without one is offered the set-up after signing in; where
// the stage requires it (TALLY_OPERATOR_MFA), the API refuses to create, open or close polls until it is done, and
// the page leads here. The API asks the user pool at each operator request, so the next try after the set-up goes
// through.
import { errorMessage } from "./api.js";
import { notify } from "./notice.js";
import { $, setMessage, show } from "./ui.js";

const ui = {
  panel: $("#mfa-panel"),
  status: $("#mfa-status"),
  start: $("#mfa-start"),
  steps: $("#mfa-steps"),
  secret: $("#mfa-secret"),
  link: $("#mfa-link"),
  uri: $("#mfa-uri"),
  form: $("#mfa-form"),
  verify: $("#mfa-verify"),
  cancel: $("#mfa-cancel"),
  error: $("#mfa-error"),
};

export class MfaPanel {
  #auth;
  state = null; // this operator's authenticator app: null (not known yet), "on" or "off"

  constructor(auth) {
    this.#auth = auth;
    ui.start.addEventListener("click", () => this.#start());
    ui.form.addEventListener("submit", (event) => this.#finish(event));
    ui.cancel.addEventListener("click", () => {
      this.#closeSteps();
      setMessage(ui.error, "");
      show(ui.start, true);
    });
  }

  async check() {
    try {
      this.state = (await this.#auth.totpEnabled()) ? "on" : "off";
    } catch {
      return; // Cognito out of reach: the API's refusal still leads here if the stage requires it
    }
    if (this.state === "off" && ui.panel.hidden) {
      this.#show("This operator account has no second factor yet. Set up an authenticator app, and signing in will " +
        "ask for its 6-digit code as well as the password.");
    }
  }

  // After the API refused an operator's request: when for want of an authenticator app, lead to its set-up.
  offerIfNeeded(reply) {
    const message = errorMessage(reply);
    if (reply.status !== 403 || !/\bMFA\b|authenticator app/.test(message)) return;
    this.state = "off";
    this.#show(`${message} It takes a minute: start below.`, "error");
    ui.panel.scrollIntoView({ block: "nearest" });
    (ui.steps.hidden ? ui.start : ui.form.elements.code).focus();
  }

  reset() {
    this.state = null;
    this.#closeSteps();
    setMessage(ui.error, "");
    show(ui.panel, false);
  }

  #show(text, kind = "") {
    show(ui.panel, true);
    show(ui.start, ui.steps.hidden);
    setMessage(ui.status, text, kind);
  }

  async #start() {
    ui.start.disabled = true;
    setMessage(ui.error, "");
    try {
      const { secret, uri } = await this.#auth.startTotpSetup();
      ui.secret.textContent = secret;
      ui.uri.textContent = uri;
      ui.link.href = uri;
      ui.form.reset();
      show(ui.steps, true);
      show(ui.start, false);
      ui.form.elements.code.focus();
    } catch (error) {
      setMessage(ui.error, error.message, "error");
    } finally {
      ui.start.disabled = false;
    }
  }

  async #finish(event) {
    event.preventDefault();
    const field = ui.form.elements.code;
    const code = field.value.replace(/\s+/g, "");
    if (!/^\d{6}$/.test(code)) {
      setMessage(ui.error, "Enter the 6 digits the authenticator app shows.", "error");
      return field.focus();
    }
    ui.verify.disabled = true;
    setMessage(ui.error, "Checking the code…");
    try {
      await this.#auth.finishTotpSetup(code);
      this.state = "on";
      setMessage(ui.error, "");
      this.#closeSteps();
      show(ui.start, false);
      setMessage(ui.status, "The authenticator app is on: from now on, signing in asks for its code. You can " +
        "create, open and close polls.", "ok");
      notify("Authenticator app set up.");
    } catch (error) {
      setMessage(ui.error, error.message, "error");
      field.select();
    } finally {
      ui.verify.disabled = false;
    }
  }

  #closeSteps() {
    show(ui.steps, false);
    ui.secret.textContent = "";
    ui.uri.textContent = "";
    ui.link.href = "#";
    ui.form.reset();
  }
}

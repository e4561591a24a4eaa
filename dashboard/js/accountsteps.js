// The vote page's account steps, each a copy of a <template> in vote.html shown in one panel (StepPanel): create an
// account (email and password, then the emailed code, then signed in with SRP), a forgotten password (a code to the
// account's email, then a new password) and an invited account's own password at its first sign-in. A successful
// sign-in is announced by auth's "change" event, and the page moves on to the poll from there.
//
// Locally the sign-in service is moto: it sends no mail and takes any code. The steps say so, and show the code to
// type, instead of pretending a mail went out (local: true, from GET /config's cognito_endpoint).
import { RULE, checkEmail, passwordMessage, signInName } from "./password.js";
import { $, busy, setMessage, show } from "./ui.js";

const LOCAL_CODE = "123456"; // any code confirms on moto; this is the one the page shows
const SIX_DIGITS = /^\d{6}$/;

export class StepPanel {
  options = { selfSignup: false, local: false };
  // The password of a sign-up (or a sign-in refused for want of the code), held here between the steps until the
  // sign-in that follows the code, then dropped. Never stored.
  pending = null;

  constructor(auth, { signInPanel, signInForm, signInError, stepPanel, showOnly }) {
    Object.assign(this, { auth, signInPanel, signInForm, signInError, panel: stepPanel, showOnly });
  }

  // Shows one step: a copy of its template, wired by `wire` (which gets the copy's form and its error line).
  show(templateId, wire) {
    const panel = this.panel;
    panel.replaceChildren($(`#${templateId}`).content.cloneNode(true));
    panel.setAttribute("aria-labelledby", "step-title");
    for (const rule of panel.querySelectorAll("[data-rule]")) rule.textContent = RULE;
    for (const note of panel.querySelectorAll("[data-local]")) show(note, this.options.local);
    for (const code of panel.querySelectorAll("[data-local-code]")) code.textContent = LOCAL_CODE;
    for (const back of panel.querySelectorAll("[data-back]")) back.addEventListener("click", () => this.back());
    this.showOnly(panel);
    const form = panel.querySelector("[data-step-form]");
    wire(form, form.querySelector("[data-error]"));
    form.querySelector("input")?.focus();
  }

  back(message = "", kind = "info", focus = true) {
    this.pending = null;
    this.panel.replaceChildren();
    this.showOnly(this.signInPanel);
    setMessage(this.signInError, message, kind);
    if (focus) this.signInForm.elements.username.focus(); // not when the page opens: a phone would pop its keyboard up
  }

  // Where the code went, in a sentence; locally, that none went anywhere.
  sentLine(destination) {
    if (this.options.local) return "";
    return destination
      ? `Tally has emailed a code to ${destination}. It can take a minute to arrive: look in spam too.`
      : "Tally has emailed a code to the account's email. It can take a minute to arrive: look in spam too.";
  }

  // Signs in after a step that knows the password; the page moves on when auth announces the session.
  async signInAfter(username, password, error) {
    setMessage(error, "Signing in…", "pending");
    const outcome = await this.auth.signIn(username, password);
    this.pending = null;
    if (outcome === "totp") {
      this.auth.cancelChallenge();
      this.back("This account signs in with an authenticator app's code: sign in on the operator dashboard.", "error");
    }
  }
}

// Runs a step's request with the form busy: `work` resolves when the step is done; a failure is said on the form,
// which is given back to the voter (onFailure may do more, such as select the code to type again).
async function attempt(form, error, pendingText, work, onFailure = () => {}) {
  busy(form, true);
  setMessage(error, pendingText, "pending");
  try {
    await work();
  } catch (failure) {
    setMessage(error, failure.message, "error");
    onFailure();
    busy(form, false);
  }
}

// The code typed, or null (and said so) when it is not 6 digits.
function codeOf(form, error) {
  const code = form.elements.code.value.replace(/\s+/g, "");
  if (SIX_DIGITS.test(code)) return code;
  setMessage(error, "Enter the 6 digits of the code.", "error");
  form.elements.code.select();
  return null;
}

export function signUpStep(steps) {
  steps.show("sign-up-template", (form, error) => form.addEventListener("submit", (event) => {
    event.preventDefault();
    const { email, problem } = checkEmail(form.elements.email.value);
    const password = form.elements.password.value;
    const wrong = problem || passwordMessage(password);
    if (wrong) {
      setMessage(error, wrong, "error");
      (problem ? form.elements.email : form.elements.password).focus();
      return;
    }
    attempt(form, error, "Creating your account…", async () => {
      const { confirmed, destination } = await steps.auth.signUp(email, password);
      steps.pending = { username: email, password };
      if (confirmed) await steps.signInAfter(email, password, error);
      else confirmStep(steps, email, destination);
    });
  }));
}

// The emailed code of a new account; then signed in, when this page knows the password.
export function confirmStep(steps, username, destination) {
  steps.show("confirm-template", (form, error) => {
    steps.panel.querySelector("[data-sent]").textContent = steps.sentLine(destination);
    wireResend(steps, steps.panel.querySelector("[data-resend]"), username, error);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const code = codeOf(form, error);
      if (!code) return;
      attempt(form, error, "Checking the code…", async () => {
        await steps.auth.confirmSignUp(username, code);
        if (steps.pending?.username === username) {
          await steps.signInAfter(username, steps.pending.password, error);
        } else {
          steps.back("Your email is confirmed. Sign in with your password.", "success");
        }
      }, () => form.elements.code.select());
    });
  });
}

// The local Cognito cannot resend a code (it answers 500), and needs none: the button is AWS's only.
function wireResend(steps, resend, username, error) {
  show(resend, !steps.options.local);
  resend.addEventListener("click", async () => {
    resend.disabled = true;
    setMessage(error, "Sending a new code…", "pending");
    try {
      const where = await steps.auth.resendSignUpCode(username);
      setMessage(error, `A new code is on its way${where ? ` to ${where}` : ""}.`, "info");
    } catch (failure) {
      setMessage(error, failure.message, "error");
    } finally {
      resend.disabled = false;
    }
  });
}

export function forgotStep(steps) {
  steps.show("forgot-template", (form, error) => {
    const typed = signInName(steps.signInForm.elements.username.value);
    if (typed.includes("@")) form.elements.email.value = typed;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const { email, problem } = checkEmail(form.elements.email.value);
      if (problem) {
        setMessage(error, problem, "error");
        return;
      }
      attempt(form, error, "Asking for a code…", async () => {
        resetStep(steps, email, await steps.auth.forgotPassword(email));
      });
    });
  });
}

function resetStep(steps, username, destination) {
  steps.show("reset-template", (form, error) => {
    steps.panel.querySelector("[data-sent]").textContent = steps.sentLine(destination);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const code = form.elements.code.value.replace(/\s+/g, "");
      const password = form.elements.password.value;
      const wrong = SIX_DIGITS.test(code) ? passwordMessage(password) : "Enter the 6 digits of the code.";
      if (wrong) {
        setMessage(error, wrong, "error");
        return;
      }
      attempt(form, error, "Saving the new password…", async () => {
        await steps.auth.confirmForgotPassword(username, code, password);
        await steps.signInAfter(username, password, error);
      });
    });
  });
}

// An invited account's first sign-in: its own password, in place of the one the invitation sent.
export function newPasswordStep(steps) {
  steps.show("new-password-template", (form, error) => form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const password = form.elements.password.value;
    const wrong = passwordMessage(password);
    if (wrong) {
      setMessage(error, wrong, "error");
      return;
    }
    busy(form, true);
    setMessage(error, "Saving your password…", "pending");
    try {
      await steps.auth.completeNewPassword(password);
    } catch (failure) {
      if (!steps.auth.challenged) {
        steps.back(failure.message, "error");
        return;
      }
      setMessage(error, failure.message, "error");
      busy(form, false);
    }
  }));
}

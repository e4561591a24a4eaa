// The vote page's account steps, around the sign-in form: create an account (email and password, then the emailed
// code, then signed in with SRP), a forgotten password (a code to the account's email, then a new password), an
// invited account's own password at its first sign-in, and deleting one's account. Each step is a copy of a
// <template> in vote.html shown in one panel; a successful sign-in is announced by auth's "change" event, and the
// page moves on to the poll from there.
//
// Locally the sign-in service is moto: it sends no mail and takes any code. The steps say so, and show the code to
// type, instead of pretending a mail went out (local: true, from GET /config's cognito_endpoint).
import { RULE, checkEmail, passwordMessage, signInName } from "./password.js";
import { $, busy, setMessage, show, wireSignIn } from "./ui.js";

export const LOCAL_CODE = "123456"; // any code confirms on moto; this is the one the page shows

export function wireAccount(auth, { signInPanel, signInForm, signInError, stepPanel, forgotButton, offer,
  createButton, showOnly }) {
  let options = { selfSignup: false, local: false };
  // The password of a sign-up (or a sign-in refused for want of the code), held in this closure between the steps
  // until the sign-in that follows the code, then dropped. Never stored.
  let pending = null;

  // Shows one step: a copy of its template, wired by `wire` (which gets the copy's root and form).
  function step(templateId, wire) {
    const copy = $(`#${templateId}`).content.cloneNode(true);
    stepPanel.replaceChildren(copy);
    stepPanel.setAttribute("aria-labelledby", "step-title");
    for (const rule of stepPanel.querySelectorAll("[data-rule]")) rule.textContent = RULE;
    for (const note of stepPanel.querySelectorAll("[data-local]")) show(note, options.local);
    for (const code of stepPanel.querySelectorAll("[data-local-code]")) code.textContent = LOCAL_CODE;
    for (const back of stepPanel.querySelectorAll("[data-back]")) back.addEventListener("click", () => backToSignIn());
    showOnly(stepPanel);
    const form = stepPanel.querySelector("[data-step-form]");
    const error = form.querySelector("[data-error]");
    wire(form, error);
    form.querySelector("input")?.focus();
  }

  function backToSignIn(message = "", kind = "info", focus = true) {
    pending = null;
    stepPanel.replaceChildren();
    showOnly(signInPanel);
    setMessage(signInError, message, kind);
    if (focus) signInForm.elements.username.focus(); // not when the page opens: a phone would pop its keyboard up
  }

  // Where the code went, in a sentence; locally, that none went anywhere.
  function sentLine(destination) {
    if (options.local) return "";
    return destination
      ? `Tally has emailed a code to ${destination}. It can take a minute to arrive: look in spam too.`
      : "Tally has emailed a code to the account's email. It can take a minute to arrive: look in spam too.";
  }

  // Signs in after a step that knows the password; the page moves on when auth announces the session.
  async function signInAfter(username, password, error) {
    setMessage(error, "Signing in…", "pending");
    const outcome = await auth.signIn(username, password);
    pending = null;
    if (outcome === "totp") {
      auth.cancelChallenge();
      backToSignIn("This account signs in with an authenticator app's code: sign in on the operator dashboard.",
        "error");
    }
  }

  // ---- sign in ------------------------------------------------------------------------------------------

  wireSignIn(auth, {
    form: signInForm,
    error: signInError,
    username: signInName,
    emptyMessage: "Enter your email (or username) and your password.",
    onNewPassword: () => newPasswordStep(),
    onError: (problem, typed) => {
      if (problem.code !== "UserNotConfirmedException") return false;
      // An account made here whose code was never typed: ask for it now, then finish this sign-in.
      signInForm.elements.password.value = "";
      pending = typed;
      confirmStep(typed.username, "");
      return true;
    },
  });

  // ---- create an account --------------------------------------------------------------------------------

  function signUpStep() {
    step("sign-up-template", (form, error) => form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const { email, problem } = checkEmail(form.elements.email.value);
      const password = form.elements.password.value;
      const wrong = problem || passwordMessage(password);
      if (wrong) {
        setMessage(error, wrong, "error");
        (problem ? form.elements.email : form.elements.password).focus();
        return;
      }
      busy(form, true);
      setMessage(error, "Creating your account…", "pending");
      try {
        const { confirmed, destination } = await auth.signUp(email, password);
        pending = { username: email, password };
        if (confirmed) await signInAfter(email, password, error);
        else confirmStep(email, destination);
      } catch (failure) {
        setMessage(error, failure.message, "error");
        busy(form, false);
      }
    }));
  }

  function confirmStep(username, destination) {
    step("confirm-template", (form, error) => {
      stepPanel.querySelector("[data-sent]").textContent = sentLine(destination);
      const resend = stepPanel.querySelector("[data-resend]");
      // The local Cognito cannot resend a code (it answers 500), and needs none: the button is AWS's only.
      show(resend, !options.local);
      resend.addEventListener("click", async () => {
        resend.disabled = true;
        setMessage(error, "Sending a new code…", "pending");
        try {
          const where = await auth.resendSignUpCode(username);
          setMessage(error, `A new code is on its way${where ? ` to ${where}` : ""}.`, "info");
        } catch (failure) {
          setMessage(error, failure.message, "error");
        } finally {
          resend.disabled = false;
        }
      });
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const code = form.elements.code.value.replace(/\s+/g, "");
        if (!/^\d{6}$/.test(code)) {
          setMessage(error, "Enter the 6 digits of the code.", "error");
          form.elements.code.select();
          return;
        }
        busy(form, true);
        setMessage(error, "Checking the code…", "pending");
        try {
          await auth.confirmSignUp(username, code);
          if (pending?.username === username) {
            await signInAfter(username, pending.password, error);
          } else {
            backToSignIn("Your email is confirmed. Sign in with your password.", "success");
          }
        } catch (failure) {
          setMessage(error, failure.message, "error");
          form.elements.code.select();
          busy(form, false);
        }
      });
    });
  }

  // ---- a forgotten password -----------------------------------------------------------------------------

  function forgotStep() {
    step("forgot-template", (form, error) => {
      const typed = signInName(signInForm.elements.username.value);
      if (typed.includes("@")) form.elements.email.value = typed;
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const { email, problem } = checkEmail(form.elements.email.value);
        if (problem) {
          setMessage(error, problem, "error");
          return;
        }
        busy(form, true);
        setMessage(error, "Asking for a code…", "pending");
        try {
          resetStep(email, await auth.forgotPassword(email));
        } catch (failure) {
          setMessage(error, failure.message, "error");
          busy(form, false);
        }
      });
    });
  }

  function resetStep(username, destination) {
    step("reset-template", (form, error) => {
      stepPanel.querySelector("[data-sent]").textContent = sentLine(destination);
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const code = form.elements.code.value.replace(/\s+/g, "");
        const password = form.elements.password.value;
        const wrong = /^\d{6}$/.test(code) ? passwordMessage(password) : "Enter the 6 digits of the code.";
        if (wrong) {
          setMessage(error, wrong, "error");
          return;
        }
        busy(form, true);
        setMessage(error, "Saving the new password…", "pending");
        try {
          await auth.confirmForgotPassword(username, code, password);
          await signInAfter(username, password, error);
        } catch (failure) {
          setMessage(error, failure.message, "error");
          busy(form, false);
        }
      });
    });
  }

  // ---- an invited account's first sign-in ---------------------------------------------------------------

  function newPasswordStep() {
    step("new-password-template", (form, error) => form.addEventListener("submit", async (event) => {
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
        await auth.completeNewPassword(password);
      } catch (failure) {
        if (!auth.challenged) {
          backToSignIn(failure.message, "error");
          return;
        }
        setMessage(error, failure.message, "error");
        busy(form, false);
      }
    }));
  }

  forgotButton.addEventListener("click", forgotStep);
  createButton.addEventListener("click", signUpStep);

  return {
    // What GET /config says: whether voters may sign up, and whether this is the local stack.
    configure(next) {
      options = { ...options, ...next };
      show(offer, options.selfSignup);
    },
    // Signed out (again): the sign-in form, with the reason.
    reset: (message, kind) => backToSignIn(message, kind, false),
  };
}

// "Delete my account", shown while signed in: one tap opens the explanation, a second deletes for good.
export function wireDeleteAccount(auth, { section, openButton, confirmBox, deleteButton, keepButton, error }) {
  const close = () => {
    show(confirmBox, false);
    show(openButton, true);
    setMessage(error, "");
  };
  openButton.addEventListener("click", () => {
    show(openButton, false);
    show(confirmBox, true);
    keepButton.focus();
  });
  keepButton.addEventListener("click", close);
  deleteButton.addEventListener("click", async () => {
    deleteButton.disabled = keepButton.disabled = true;
    setMessage(error, "Deleting your account…", "pending");
    try {
      await auth.deleteAccount("Your account is deleted. The votes you cast stay counted, and nothing links them " +
        "to you any more.");
    } catch (failure) {
      setMessage(error, failure.message, "error");
    } finally {
      deleteButton.disabled = keepButton.disabled = false;
    }
  });
  return {
    // Voters may delete their accounts here; an operator's account is an administrator's to remove.
    render(signedIn, operator) {
      show(section, signedIn && !operator);
      if (!signedIn) close();
    },
  };
}

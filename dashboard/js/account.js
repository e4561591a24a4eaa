// The vote page's account, around the sign-in form: the steps to create an account, reset a forgotten password and
// choose an invited account's own password (accountsteps.js), and deleting one's account.
import { StepPanel, confirmStep, forgotStep, newPasswordStep, signUpStep } from "./accountsteps.js";
import { signInName } from "./password.js";
import { setMessage, show, wireSignIn } from "./ui.js";

export function wireAccount(auth, { signInPanel, signInForm, signInError, stepPanel, forgotButton, offer,
  createButton, showOnly }) {
  const steps = new StepPanel(auth, { signInPanel, signInForm, signInError, stepPanel, showOnly });
  wireSignIn(auth, {
    form: signInForm,
    error: signInError,
    username: signInName,
    emptyMessage: "Enter your email (or username) and your password.",
    onNewPassword: () => newPasswordStep(steps),
    onError: (problem, typed) => {
      if (problem.code !== "UserNotConfirmedException") return false;
      // An account made here whose code was never typed: ask for it now, then finish this sign-in.
      signInForm.elements.password.value = "";
      steps.pending = typed;
      confirmStep(steps, typed.username, "");
      return true;
    },
  });
  forgotButton.addEventListener("click", () => forgotStep(steps));
  createButton.addEventListener("click", () => signUpStep(steps));

  return {
    // What GET /config says: whether voters may sign up, and whether this is the local stack.
    configure(next) {
      steps.options = { ...steps.options, ...next };
      show(offer, steps.options.selfSignup);
    },
    // Signed out (again): the sign-in form, with the reason.
    reset: (message, kind) => steps.back(message, kind, false),
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
    // Voters may delete their accounts here; an operator's account is an administrator's to remove. operator is
    // null while the page does not know yet (GET /config names the operators' group): then nothing is offered.
    render(signedIn, operator) {
      show(section, signedIn && operator === false);
      if (!signedIn) close();
    },
  };
}

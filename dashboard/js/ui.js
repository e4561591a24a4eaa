// Small DOM and formatting helpers shared by both pages. Text always goes in through textContent, never as HTML:
// poll titles and labels come from operators.

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function $(selector, root = document) {
  const found = root.querySelector(selector);
  if (!found) throw new Error(`missing element ${selector}`);
  return found;
}

// el("button", {class: "x", type: "button", dataset: {poll: "a"}, onclick: fn}, "text", child, ...)
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export function show(node, visible = true) {
  node.hidden = !visible;
}

export function setMessage(node, text, kind = "") {
  node.textContent = text || "";
  node.dataset.kind = text ? kind : "";
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
});

export function clockTime(instant) {
  return timeFormat.format(new Date(instant));
}

// "10:02" today, "Nov 23, 10:02" on another day.
export function when(instant) {
  const date = new Date(instant);
  return date.toDateString() === new Date().toDateString()
    ? timeFormat.format(date)
    : dateTimeFormat.format(date);
}

// 75_000 -> "1:15", 3_725_000 -> "1:02:05", 2 days -> "2 d 3:04:05"
export function duration(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const pad = (n) => String(n).padStart(2, "0");
  const clock = hours || days ? `${hours}:${pad(minutes)}:${pad(seconds)}` : `${minutes}:${pad(seconds)}`;
  return days ? `${days} d ${clock}` : clock;
}

// How long ago, in words short enough for a status line.
export function age(ms) {
  if (ms < 1500) return "just now";
  if (ms < 60_000) return `${Math.round(ms / 1000)} s ago`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min ago`;
  return `${Math.round(ms / 3_600_000)} h ago`;
}

export function percent(share) {
  return `${(share * 100).toFixed(share > 0 && share < 0.1 ? 1 : 0)}%`;
}

export const plural = (n, one, many = `${one}s`) => `${n.toLocaleString()} ${n === 1 ? one : many}`;

// A form waiting for an answer: its buttons off, so that it is not sent twice.
export function busy(form, on) {
  for (const button of form.querySelectorAll("button")) button.disabled = on;
}

// The sign-in forms, the same on both pages: the username and password (signed in with SRP: the password never
// leaves the page), then, for an account with an authenticator app, its 6-digit code. Each step checks its
// fields and says what went wrong; a successful sign-in is announced by auth's "change" event. Without a code
// form (the vote page), an account that asks for a code is told where to sign in instead. Returns reset(), which
// brings back the first step. The vote page adds its own steps: `username` reads the name typed (an email is
// lower-cased there), `onNewPassword` takes an invited account's first sign-in, and `onError(problem, typed)`
// may take a refusal (true when it did), such as an account whose emailed code was never typed.
export function wireSignIn(auth, { form, error, totpForm = null, totpError = null, totpCancel = null,
  username: readName = (text) => text.trim(), emptyMessage = "Enter your username and password.",
  onNewPassword = null, onError = () => false }) {
  const step = (totp, focus = true) => {
    show(form, !totp);
    if (totpForm) show(totpForm, totp);
    if (focus) (totp ? totpForm.elements.code : form.elements.username).focus();
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const fields = form.elements;
    const username = readName(fields.username.value);
    const password = fields.password.value;
    if (!username || !password) {
      setMessage(error, emptyMessage, "error");
      return;
    }
    busy(form, true);
    setMessage(error, "Signing in…");
    try {
      const outcome = await auth.signIn(username, password);
      fields.password.value = "";
      setMessage(error, "");
      if (outcome === "totp" && totpForm) {
        setMessage(totpError, "");
        totpForm.reset();
        step(true);
      } else if (outcome === "totp") {
        auth.cancelChallenge();
        setMessage(error, "This account signs in with an authenticator app's code: sign in on the operator " +
          "dashboard.", "error");
      } else if (outcome === "new-password" && onNewPassword) {
        onNewPassword();
      }
    } catch (problem) {
      if (!onError(problem, { username, password })) {
        setMessage(error, problem.message, "error");
        fields.password.select();
      }
    } finally {
      busy(form, false);
    }
  });

  if (totpForm) {
    totpForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const code = totpForm.elements.code.value.replace(/\s+/g, "");
      if (!/^\d{6}$/.test(code)) {
        setMessage(totpError, "Enter the 6 digits the authenticator app shows.", "error");
        totpForm.elements.code.select();
        return;
      }
      busy(totpForm, true);
      setMessage(totpError, "Checking the code…");
      try {
        await auth.sendTotpCode(code);
        setMessage(totpError, "");
        step(false, false); // signed in: the page moves on; the next sign-in starts with the first step
      } catch (problem) {
        if (auth.challenged) {
          setMessage(totpError, problem.message, "error");
          totpForm.elements.code.select();
        } else {
          step(false);
          setMessage(error, problem.message, "error");
        }
      } finally {
        busy(totpForm, false);
      }
    });
    totpCancel.addEventListener("click", () => {
      auth.cancelChallenge();
      setMessage(error, "");
      step(false);
    });
  }
  return { reset: () => step(false, false) };
}

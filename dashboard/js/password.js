// What the vote page checks before it sends a new account's email and password, so that a voter learns at once
// what is missing instead of after a round trip. Cognito checks again, and has the last word.
// The password rule is the user pool's PasswordPolicy (infra/cognito.json): 12 or more characters, an upper-case
// letter, a lower-case letter, a digit and a symbol. tests/e2e/test_sign_up.py holds this check to the local pool's.

export const RULE = "Use 12 or more characters, with an upper-case letter, a lower-case letter, a digit and a symbol " +
  "(such as ! ? - _ # or a space between words).";
const MIN_LENGTH = 12;
const MAX_LENGTH = 256;
// Cognito's symbols, and a space that is neither first nor last.
const SYMBOLS = new Set("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ");
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@.]+$/;
const MAX_USERNAME = 128; // Cognito's longest username: the email is the username

// What the password lacks, in words that finish "It needs …"; [] when it meets the rule.
export function passwordProblems(password) {
  const problems = [];
  if (password.length < MIN_LENGTH) problems.push(`${MIN_LENGTH} or more characters (it has ${password.length})`);
  if (password.length > MAX_LENGTH) problems.push(`at most ${MAX_LENGTH} characters`);
  if (!/[A-Z]/.test(password)) problems.push("an upper-case letter (A–Z)");
  if (!/[a-z]/.test(password)) problems.push("a lower-case letter (a–z)");
  if (!/[0-9]/.test(password)) problems.push("a digit (0–9)");
  if (![...password].some((c) => SYMBOLS.has(c))) problems.push("a symbol, such as ! ? - _ #");
  if (/^\s|\s$/.test(password)) problems.push("no space at its start or end");
  return problems;
}

// One sentence for the form, or "" when the password is fine.
export function passwordMessage(password) {
  const problems = passwordProblems(password);
  if (!problems.length) return "";
  const list = problems.length === 1 ? problems[0]
    : `${problems.slice(0, -1).join(", ")} and ${problems[problems.length - 1]}`;
  return `The password needs ${list}.`;
}

// The email as the account's username: trimmed and in lower case (the pool ignores case in usernames; one spelling
// keeps the email attribute and the username the same). Returns {email, problem}.
export function checkEmail(raw) {
  const email = String(raw ?? "").trim().toLowerCase();
  if (!email) return { email, problem: "Enter your email address." };
  if (email.length > MAX_USERNAME || !EMAIL.test(email)) {
    return { email, problem: "That does not look like an email address: it should be like name@example.org." };
  }
  return { email, problem: "" };
}

// What a voter types to sign in: an email in lower case, as sign-up stored it; any other username as typed.
export function signInName(raw) {
  const name = String(raw ?? "").trim();
  return name.includes("@") ? name.toLowerCase() : name;
}

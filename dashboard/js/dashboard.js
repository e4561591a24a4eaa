// The operator dashboard: sign in, list/create/open/close polls, and watch one poll's results live. This module
// wires the page's parts together and follows the session; each part is its own module:
//   polllist.js     the poll list and its open and close actions (which poll is selected)
//   resultspanel.js the selected poll's results (fed by resultsfeed.js), with its join link (joinpanel.js)
//   createform.js   the new-poll form
//   mfapanel.js     the operator's authenticator app
//   rollpanel.js    a roll poll's voters
import { Api } from "./api.js";
import { Auth } from "./auth.js";
import { loadConfig, serverRules } from "./config.js";
import { CreateForm } from "./createform.js";
import { MfaPanel } from "./mfapanel.js";
import { notify } from "./notice.js";
import { PollList } from "./polllist.js";
import { ResultsPanel } from "./resultspanel.js";
import { RollPanel } from "./rollpanel.js";
import { $, setMessage, show, wireSignIn } from "./ui.js";

const CLOCK_EVERY_MS = 250;

const ui = {
  loading: $("#loading"),
  session: $("#session"),
  who: $("#who"),
  signOut: $("#sign-out"),
  signInPanel: $("#sign-in-panel"),
  signInForm: $("#sign-in-form"),
  signInError: $("#sign-in-error"),
  signInUsername: $("#sign-in-username"),
  totpForm: $("#totp-form"),
  totpError: $("#totp-error"),
  totpCancel: $("#totp-cancel"),
  app: $("#app"),
};

// The page's parts, made once the stack's config and the API's rules are known.
function assemble(config, rules) {
  const auth = new Auth(config, "tally.dashboard.session");
  const api = new Api(config.apiUrl, auth);
  const mfa = new MfaPanel(auth);
  const parts = { auth, api, mfa, rules };
  parts.polls = new PollList({
    api, auth, mfa,
    onSelect: (pollId) => parts.results.follow(pollId),
    onDrawn: () => parts.results.renderHeading(),
    onSelectedChanged: () => parts.results.kick(),
    onSelectedClosing: () => parts.results.closing(),
  });
  parts.roll = new RollPanel({
    api,
    limits: rules.limits,
    onChanged: (pollId) => {
      if (pollId === parts.polls.selected) parts.results.kick(); // the turnout's roll has moved
    },
  });
  parts.results = new ResultsPanel({ api, auth, polls: parts.polls, roll: parts.roll });
  parts.create = new CreateForm({ api, rules, polls: parts.polls, mfa });
  parts.signInForms = wireSignIn(auth, {
    form: ui.signInForm, error: ui.signInError, totpForm: ui.totpForm, totpError: ui.totpError,
    totpCancel: ui.totpCancel,
  });
  return parts;
}

function renderSession(parts, reason = "") {
  const { auth } = parts;
  show(ui.loading, false);
  show(ui.signInPanel, !auth.signedIn);
  show(ui.app, auth.signedIn);
  show(ui.session, auth.signedIn);
  if (auth.signedIn) {
    ui.who.textContent = auth.username;
    if (!auth.groups.includes(parts.rules.operators_group)) {
      notify(`${auth.username} is not in the ${parts.rules.operators_group} group: results of live polls only; ` +
        "creating, opening and closing polls will be refused.", "warn");
    } else if (parts.mfa.state === null) {
      parts.mfa.check();
    }
    if (!parts.results.startCharts()) {
      notify("The chart library did not load (dashboard/vendor/ is built by `make dashboard`); figures only.", "error");
    }
    parts.polls.refresh();
  } else {
    parts.results.reset();
    parts.polls.reset();
    parts.roll.reset();
    parts.mfa.reset();
    parts.signInForms.reset();
    setMessage(ui.signInError, reason, "info");
    ui.signInUsername.focus();
  }
}

async function main() {
  const onWait = (delay, reason) => {
    setMessage(ui.loading, `Waiting for the stack: ${reason}. Trying again in ${Math.ceil(delay / 1000)} s…`);
  };
  const config = await loadConfig(onWait);
  const parts = assemble(config, await serverRules(config, onWait));
  const { auth, polls } = parts;
  auth.addEventListener("change", (event) => renderSession(parts, event.detail.reason));
  ui.signOut.addEventListener("click", () => auth.signOut("You have signed out."));
  window.addEventListener("hashchange", () => {
    const wanted = new URLSearchParams(location.hash.slice(1)).get("poll");
    if (wanted && wanted !== polls.selected && polls.byId(wanted)) polls.select(wanted);
  });
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  for (const hint of document.querySelectorAll("[data-zone]")) hint.textContent += ` (your time, ${zone})`;

  renderSession(parts, await auth.restore());
  setInterval(() => {
    const now = Date.now();
    parts.results.tick(now);
    polls.tick(now);
  }, CLOCK_EVERY_MS);
}

main().catch((error) => {
  setMessage(ui.loading, `The dashboard could not start: ${error.message}`, "error");
  throw error;
});

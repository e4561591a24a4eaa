// The new-poll form. It checks what it can with the API's own rules (GET /config's limits: the id pattern, the
// longest title and label, how many candidates, the highest expected peak) before it sends, so that a mistake is
// named next to its field; the API checks everything again.
import { OfflineError, errorMessage } from "./api.js";
import { candidateList, localToInstant } from "./candidates.js";
import { notify, scrollToNotice } from "./notice.js";
import { $, setMessage } from "./ui.js";

const ui = {
  form: $("#create-form"),
  error: $("#create-error"),
  ids: $("#create-candidates-ids"),
  candidatesHint: $("#create-candidates-hint"),
  submit: $("#create-submit"),
};

class Refusal extends Error {
  constructor(message, field) {
    super(message);
    this.field = field;
  }
}

// The poll the form describes, as POST /polls takes it; a Refusal names what is wrong, and where.
function pollOf(form, limits, pollId) {
  const title = form.title.value.trim();
  if (!title) throw new Refusal("Give the poll a title.", form.title);
  const { min_candidates: fewest, max_candidates: most, reserved_ids: reserved } = limits;
  const candidates = candidateList(form.candidates.value, limits.max_label);
  if (candidates.length < fewest || candidates.length > most) {
    throw new Refusal(`List ${fewest} to ${most} candidates, one per line.`, form.candidates);
  }
  const taken = candidates.find((c) => reserved.includes(c.id));
  if (taken) throw new Refusal(`A candidate cannot be called “${taken.id}”: the API uses that word.`, form.candidates);
  const body = { title, candidates, results: form.results.value || "live" };
  if (form.electorate.value === "roll") body.electorate = "roll"; // "open" is the API's default
  const id = form.poll_id.value.trim();
  if (id && !pollId.test(id)) {
    throw new Refusal("A poll id is lowercase letters, digits and hyphens, starting with a letter or digit " +
      `(the API's rule: ${limits.id_pattern}).`, form.poll_id);
  }
  if (id) body.poll_id = id;
  Object.assign(body, scheduleOf(form), peakOf(form.expected_peak_votes_per_s, limits.max_peak_votes_per_s));
  return body;
}

function scheduleOf(form) {
  const opensAt = localToInstant(form.opens_at.value);
  const closesAt = localToInstant(form.closes_at.value);
  if (opensAt === undefined) throw new Refusal("“Opens at” is not a date and time.", form.opens_at);
  if (closesAt === undefined) throw new Refusal("“Closes at” is not a date and time.", form.closes_at);
  if (closesAt && Date.parse(closesAt) <= Date.now()) {
    throw new Refusal("“Closes at” must be in the future.", form.closes_at);
  }
  if (opensAt && closesAt && closesAt <= opensAt) {
    throw new Refusal("“Closes at” must be after “Opens at”.", form.closes_at);
  }
  return { ...(opensAt && { opens_at: opensAt }), ...(closesAt && { closes_at: closesAt }) };
}

function peakOf(field, most) {
  if (!field.value && !field.validity.badInput) return {};
  const peak = Number(field.value);
  if (!Number.isInteger(peak) || peak < 1 || peak > most) {
    throw new Refusal(`“Expected peak votes/s” is a whole number from 1 to ${most.toLocaleString()}.`, field);
  }
  return { expected_peak_votes_per_s: peak };
}

export class CreateForm {
  // rules: the API's GET /config (config.js serverRules); polls: the poll list, which takes the new poll.
  constructor({ api, rules, polls, mfa }) {
    Object.assign(this, { api, limits: rules.limits, pollId: rules.pollId, polls, mfa });
    const fields = ui.form.elements;
    fields.title.maxLength = this.limits.max_title;
    fields.expected_peak_votes_per_s.max = String(this.limits.max_peak_votes_per_s);
    ui.candidatesHint.textContent = `one per line, ${this.limits.min_candidates} to ${this.limits.max_candidates}`;
    ui.form.addEventListener("submit", (event) => this.#submit(event));
    fields.candidates.addEventListener("input", () => this.#showCandidateIds());
  }

  #showCandidateIds() {
    const candidates = candidateList(ui.form.elements.candidates.value, this.limits.max_label);
    ui.ids.textContent = candidates.length ? `Ids: ${candidates.map((c) => c.id).join(", ")}` : "";
  }

  #fail(message, field = null) {
    setMessage(ui.error, message, "error");
    field?.focus();
  }

  async #submit(event) {
    event.preventDefault();
    setMessage(ui.error, "");
    let body;
    try {
      body = pollOf(ui.form.elements, this.limits, this.pollId);
    } catch (refusal) {
      if (!(refusal instanceof Refusal)) throw refusal;
      return this.#fail(refusal.message, refusal.field);
    }
    ui.submit.disabled = true;
    try {
      const reply = await this.api.post("/polls", body);
      if (reply.status === 201) {
        this.#created(reply.body);
      } else if (reply.status !== 401) {
        this.#fail(errorMessage(reply));
        this.mfa.offerIfNeeded(reply);
      }
    } catch (error) {
      if (!(error instanceof OfflineError)) throw error;
      this.#fail("The API did not answer, so no poll was created. Try again in a moment.");
    } finally {
      ui.submit.disabled = false;
    }
  }

  // The form is the last thing on a phone's page: the new poll, its notice and its join link are at the top. The
  // list selects it, and the notice is brought into view.
  #created(poll) {
    ui.form.reset();
    this.#showCandidateIds();
    notify(`Created “${poll.title}” (id ${poll.poll_id}), ${poll.status}.` +
      (poll.electorate === "roll" ? " Only the voters on its roll can vote: add them under “Roll”." : ""));
    this.polls.add(poll);
    scrollToNotice();
  }
}

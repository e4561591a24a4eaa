// The vote page's results, drawn into the ballot's own choices (as a poll in a chat app shows them): each choice
// gets its share as a bar and in figures, under a label that wraps over as many lines as it needs, so a long
// label stays whole on a phone; the voter's own choice keeps its mark. Plain elements and CSS, no chart library,
// and loaded only once there are results to show (vote.js imports it after sign-in): the sign-in view loads no
// chart code. Widths are set through the CSSOM, which the pages' Content-Security-Policy (style-src 'self') allows.
import { colour } from "./palette.js";
import { el, percent, plural } from "./ui.js";

// results: the shape of GET /polls/{id}/results (the public document's `results`).
export function showResults(choices, results) {
  choices.classList.add("with-results");
  const byId = new Map(results.candidates.map((c) => [c.id, c]));
  choices.querySelectorAll("button.choice").forEach((button, index) => {
    const figures = byId.get(button.dataset.candidate) ?? { votes: 0, share: 0 };
    let result = button.querySelector(".choice-result");
    if (!result) {
      // The figures beside the label, the bar under both: every bar has the choice's full width, so bars of
      // different choices compare at a glance.
      result = el("span", { class: "choice-result" },
        el("span", { class: "choice-share" }, el("span", { class: "choice-pct" }), " ",
          el("span", { class: "choice-votes" })),
        el("span", { class: "choice-bar", "aria-hidden": "true" }, el("span", { class: "choice-fill" })));
      result.querySelector(".choice-fill").style.backgroundColor = colour(index);
      button.append(result);
    }
    result.querySelector(".choice-pct").textContent = percent(figures.share);
    result.querySelector(".choice-votes").textContent = plural(figures.votes, "vote");
    result.querySelector(".choice-fill").style.width = `${Math.min(100, Math.max(0, figures.share * 100))}%`;
  });
}

export function clearResults(choices) {
  choices.classList.remove("with-results");
  for (const result of choices.querySelectorAll(".choice-result")) result.remove();
}

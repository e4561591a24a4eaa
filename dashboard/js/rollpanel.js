// The dashboard's roll panel, for a selected roll poll: its members, a page at a time, who can be taken off the
// roll before the poll opens (rollmembers.js); and the upload of voters from a CSV file or a pasted list, in
// batches (rollupload.js). This module shows the panel for the poll selected and keeps the two in step.
import { RollMembers } from "./rollmembers.js";
import { RollUpload } from "./rollupload.js";
import { $, show } from "./ui.js";

export class RollPanel {
  #poll = null;
  #members;
  #upload;

  // limits: GET /config's (the roll's batch and body sizes). onChanged(pollId): the poll's roll grew or shrank, so
  // its turnout moved.
  constructor({ api, limits, onChanged = () => {} }) {
    this.ui = { panel: $("#roll-panel"), title: $("#roll-title"), closed: $("#roll-closed") };
    this.#members = new RollMembers({ api, onChanged });
    this.#upload = new RollUpload({
      api, limits,
      onDone: (pollId, outcome) => {
        if (outcome.sent) onChanged(pollId);
        if (pollId === this.#poll?.poll_id) this.refresh();
      },
    });
  }

  // The selected poll (or null): the panel shows for a roll poll only.
  show(poll) {
    const roll = poll?.electorate === "roll" ? poll : null;
    const changed = roll?.poll_id !== this.#poll?.poll_id;
    this.#poll = roll;
    show(this.ui.panel, Boolean(roll));
    if (!roll) return;
    this.ui.title.textContent = `Roll of “${roll.title}”`;
    show(this.ui.closed, roll.status === "closed");
    this.#upload.show(roll, changed);
    // Voters leave a roll only before its poll opens: after that, whether a removal worked would say whether
    // they have voted (docs/security.md), so the API refuses every removal and there are no Remove buttons.
    const shrinkable = roll.status === "scheduled";
    if (changed) {
      this.#members.forPoll(roll.poll_id, shrinkable);
      this.refresh();
    } else {
      this.#members.allowRemoval(shrinkable);
    }
  }

  // The roll's size, as the results' turnout gives it (exact, and asked for every second anyway).
  sizeFromResults(pollId, size) {
    if (pollId === this.#poll?.poll_id) this.#members.showSize(size);
  }

  refresh() {
    return this.#members.refresh();
  }

  reset() {
    this.#poll = null;
    this.#upload.reset();
    this.#members.forPoll(null, false);
    show(this.ui.panel, false);
  }
}

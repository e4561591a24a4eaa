// The selected poll's way in for voters: its vote page's link, as text to copy and as a QR code to show; and its
// audience screen, which shows what the public document does (so nothing, for a poll whose results are for
// operators only).
import { copyText, drawQr, joinUrl, onlyHere, spokenUrl } from "./join.js";
import { $, setMessage, show } from "./ui.js";

const ui = {
  join: $("#join"),
  qr: $("#join-qr"),
  link: $("#join-link"),
  local: $("#join-local"),
  copy: $("#join-copy"),
  copied: $("#join-copied"),
  screenOpen: $("#screen-open"),
  screenNote: $("#join-screen-note"),
};

ui.copy.addEventListener("click", async () => {
  const copied = await copyText(ui.link.href, ui.link);
  setMessage(ui.copied, copied ? "Copied." : "Selected: copy it with Ctrl+C (⌘C on a Mac).", copied ? "ok" : "");
});

// pollId: the selected poll's id (null for none); poll: what the list knows of it, if anything yet.
export function renderJoin(pollId, poll) {
  show(ui.join, Boolean(pollId));
  if (!pollId) return;
  if (ui.join.dataset.poll !== pollId) {
    ui.join.dataset.poll = pollId;
    const link = joinUrl(pollId);
    ui.link.href = link;
    ui.link.textContent = spokenUrl(link);
    show(ui.local, onlyHere(link));
    ui.screenOpen.href = `screen.html?poll=${encodeURIComponent(pollId)}`;
    setMessage(ui.copied, "");
    show(ui.qr, false);
    drawQr(ui.qr, link).then((drawn) => show(ui.qr, drawn && ui.join.dataset.poll === pollId));
  }
  ui.screenNote.textContent = poll?.results === "operators"
    ? "Its results are for operators only: the audience screen shows the question and the QR code, never the bars."
    : poll?.results === "after_close" ? "The audience screen shows its results once it closes." : "";
}

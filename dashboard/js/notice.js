// The dashboard's one notice line, under the header: what an action did, or why it did not. A success fades after a
// while; a warning or an error stays until the next notice.
import { $, setMessage } from "./ui.js";

const FADE_MS = 8000;
const line = $("#notice");
let fadeTimer = null;

export function notify(text, kind = "ok") {
  clearTimeout(fadeTimer);
  setMessage(line, text, kind);
  if (kind === "ok") fadeTimer = setTimeout(() => setMessage(line, ""), FADE_MS);
}

export function scrollToNotice() {
  const reduced = matchMedia("(prefers-reduced-motion: reduce)").matches;
  line.scrollIntoView({ block: "start", behavior: reduced ? "auto" : "smooth" });
}

// A poll's results as a CSV file (GET /polls/{poll_id}/results.csv: totals, shares, turnout and the timeline),
// fetched with the operator's token and handed to the browser as a download from a blob: URL. The page's
// Content-Security-Policy governs what it fetches (connect-src: the API), not what it saves: no change needed.
import { errorMessage, sendSettled } from "./api.js";
import { el } from "./ui.js";

const KEEP_URL_MS = 60_000; // the browser reads the blob after the click returns: keep it a while

// Answers null when the file was handed over, or a sentence saying why not.
export async function downloadResults(api, pollId) {
  const path = `/polls/${encodeURIComponent(pollId)}/results.csv`;
  const settled = await sendSettled((signal) => api.get(path, { signal }), { giveUpMs: 15_000 });
  if (!settled) return "The API did not answer, so there is no file. Try again in a moment.";
  const { reply } = settled;
  if (reply.status !== 200) return `The results could not be exported: ${errorMessage(reply)}`;
  const url = URL.createObjectURL(new Blob([reply.text], { type: "text/csv;charset=utf-8" }));
  const link = el("a", { href: url, download: `${pollId}-results.csv`, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), KEEP_URL_MS);
  return null;
}

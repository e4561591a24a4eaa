// The way into a poll for its audience: the vote page's address with the poll in it, as a link and as a QR code.
// The QR code is drawn by the vendored `qr` library (pinned in package.json, copied to vendor/ by the build), as an
// SVG image: sharp at any size, from a projector to a phone, and allowed by the pages' CSP (img-src data:).

// The vote page beside this page, on the origin the browser reached it at: the address a phone scans.
export function joinUrl(pollId, base = document.baseURI) {
  const url = new URL("vote.html", base);
  url.searchParams.set("poll", pollId);
  return url.href;
}

// The link as people read it aloud or type it: without "https://".
export function spokenUrl(url) {
  return url.replace(/^https?:\/\//, "");
}

// A loopback address works on this computer only: a phone that scans it reaches itself.
export function onlyHere(url) {
  const host = new URL(url).hostname;
  return host === "localhost" || host === "[::1]" || /^127\./.test(host);
}

let encoder = null;
// Loaded when first needed, so a page whose vendor/ is missing still shows the link itself.
async function encodeQR() {
  encoder ??= import("../vendor/qr.js").then((module) => module.default);
  return encoder;
}

// Draws `text` as a QR code into an <img>. Medium error correction survives a projector's glare and a phone's
// angle; the four-module quiet zone is what the standard asks of a scanner's surroundings. False if the library is
// not there (the caller then shows the link only).
export async function drawQr(img, text) {
  let encode;
  try {
    encode = await encodeQR();
  } catch {
    encoder = null;
    return false;
  }
  const svg = encode(text, "svg", { ecc: "medium", border: 4 });
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  img.dataset.text = text;
  return true;
}

// Puts a link on the clipboard; where the browser refuses (no permission, an insecure origin), selects it in
// `fallback` so that the person can copy it themselves. True if it is on the clipboard.
export async function copyText(text, fallback) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const range = document.createRange();
    range.selectNodeContents(fallback);
    const selection = getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    return false;
  }
}

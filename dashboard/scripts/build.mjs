// Copies the pinned browser libraries from node_modules/ into vendor/, next to the pages that load them:
//   chart.js                    the dashboard's charts (its UMD build: the global Chart)
//   amazon-cognito-identity-js  sign-in with SRP, refresh, sign-out and TOTP MFA (its UMD build, which bundles its
//                               own dependencies: the global AmazonCognitoIdentity). Both run under the pages'
//                               Content-Security-Policy (scripts from the page's own origin only, no eval).
//   qr                          the join link's QR code on the dashboard and the audience screen (an ES module with
//                               no imports of its own: the pages import vendor/qr.js as it is).
// Run by `make dashboard` (after `npm ci`); vendor/ is build output and is not committed.
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const vendor = join(here, "vendor");
const modules = join(here, "node_modules");
const chart = join(modules, "chart.js");
const cognito = join(modules, "amazon-cognito-identity-js");
const qr = join(modules, "qr");

const files = [
  [join(chart, "dist", "chart.umd.min.js"), "chart.umd.min.js"],
  [join(chart, "dist", "chart.umd.min.js.map"), "chart.umd.min.js.map"],
  [join(chart, "LICENSE.md"), "chart.js-LICENSE.md"],
  [join(cognito, "dist", "amazon-cognito-identity.min.js"), "amazon-cognito-identity.min.js"],
  [join(cognito, "LICENSE.txt"), "amazon-cognito-identity-js-LICENSE.txt"],
  [join(cognito, "NOTICE.txt"), "amazon-cognito-identity-js-NOTICE.txt"],
  [join(qr, "index.js"), "qr.js"],
  [join(qr, "LICENSE"), "qr-LICENSE.txt"],
  [join(qr, "LICENSE-MIT"), "qr-LICENSE-MIT.txt"],
];

rmSync(vendor, { recursive: true, force: true });
mkdirSync(vendor, { recursive: true });
for (const [from, to] of files) copyFileSync(from, join(vendor, to));
const version = (folder) => JSON.parse(readFileSync(join(folder, "package.json"), "utf8")).version;
console.log(`dashboard/vendor/: chart.js ${version(chart)}, amazon-cognito-identity-js ${version(cognito)}, ` +
  `qr ${version(qr)}`);

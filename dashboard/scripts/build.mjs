// Copies the pinned chart library from node_modules/ into vendor/, next to the pages that load it.
// Run by `make dashboard` (after `npm ci`); vendor/ is build output and is not committed.
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const vendor = join(here, "vendor");
const chart = join(here, "node_modules", "chart.js");

const files = [
  [join(chart, "dist", "chart.umd.min.js"), "chart.umd.min.js"],
  [join(chart, "dist", "chart.umd.min.js.map"), "chart.umd.min.js.map"],
  [join(chart, "LICENSE.md"), "chart.js-LICENSE.md"],
];

rmSync(vendor, { recursive: true, force: true });
mkdirSync(vendor, { recursive: true });
for (const [from, to] of files) copyFileSync(from, join(vendor, to));
const { version } = JSON.parse(readFileSync(join(chart, "package.json"), "utf8"));
console.log(`dashboard/vendor/: chart.js ${version}`);

// What the pages need to know about the stack, in two parts:
// - config.json next to them, which says where the stack is. The local stack's static server makes that file from
//   the running API (devstack/static_server.py); on AWS the deploy writes the same file:
//     {"api_url", "region", "user_pool_id", "client_id", "cognito_endpoint"}
//   cognito_endpoint is the local Cognito (moto); null on AWS, where the regional endpoint is used. The pages'
//   Content-Security-Policy lets them reach the API and that Cognito endpoint only.
// - the API's own rules, from its GET /config (serverRules): `limits` (the id pattern, the longest title and label,
//   how many candidates, the highest expected peak, the roll's batch and body sizes), `operators_group` (the user
//   pool group whose members manage polls) and `self_signup`. A page checks with these before it sends, and keeps
//   no copy of them: the API is the one place they are written.
import { sleep } from "./ui.js";

export class ConfigError extends Error {}

export function normalise(raw) {
  const apiUrl = String(raw?.api_url ?? "").replace(/\/+$/, "");
  if (!apiUrl || !raw.region || !raw.user_pool_id || !raw.client_id) {
    throw new ConfigError("config.json needs api_url, region, user_pool_id and client_id.");
  }
  return {
    apiUrl,
    region: raw.region,
    userPoolId: raw.user_pool_id,
    clientId: raw.client_id,
    cognitoEndpoint: raw.cognito_endpoint || `https://cognito-idp.${raw.region}.amazonaws.com/`,
  };
}

// Asks `url` (`name`, in the page's words) until it answers 200: the stack may still be coming up. onWait(delayMs,
// reason) lets the page say so.
async function untilAnswered(url, name, fetchOptions, onWait) {
  let delay = 500;
  for (;;) {
    let reason;
    try {
      const reply = await fetch(url, fetchOptions);
      if (reply.ok) return await reply.json();
      reason = `${name} answered ${reply.status}`;
    } catch {
      reason = `${name} could not be loaded`;
    }
    onWait(delay, reason);
    await sleep(delay);
    delay = Math.min(delay * 2, 8000);
  }
}

export async function loadConfig(onWait = () => {}) {
  const url = new URL("config.json", document.baseURI);
  return normalise(await untilAnswered(url, "config.json", { cache: "no-cache" }, onWait));
}

// GET /config is public and the same for every caller: the browser (and on AWS the CDN) may keep it.
export async function serverRules(config, onWait = () => {}) {
  const rules = await untilAnswered(`${config.apiUrl}/config`, "the API's GET /config", {}, onWait);
  return { ...rules, pollId: new RegExp(rules.limits.id_pattern) };
}

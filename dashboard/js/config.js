// What the pages need to know about the stack, from config.json next to them. The local stack's static server
// makes that file from the running API (devstack/static_server.py); on AWS the deploy writes the same file:
//   {"api_url", "region", "user_pool_id", "client_id", "cognito_endpoint", "limits"}
// limits are the API's own (GET /config): a page that has none in config.json asks the API (limitsOf).
// cognito_endpoint is the local Cognito (moto); null on AWS, where the regional endpoint is used. The pages'
// Content-Security-Policy lets them reach the API and that Cognito endpoint only.
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
    limits: raw.limits ?? null,
  };
}

// What a poll may be (ids, candidates, title), as the API keeps it: config.json's copy, else the API's GET /config.
export async function limitsOf(config) {
  if (config.limits) return config.limits;
  const reply = await fetch(`${config.apiUrl}/config`, { cache: "no-cache" });
  if (!reply.ok) throw new ConfigError(`GET /config answered ${reply.status}`);
  return (await reply.json()).limits;
}

// Keeps trying while the stack comes up; onWait(delayMs, reason) lets the page say so.
export async function loadConfig(onWait = () => {}) {
  let delay = 500;
  for (;;) {
    let reason;
    try {
      const reply = await fetch(new URL("config.json", document.baseURI), { cache: "no-cache" });
      if (reply.ok) return normalise(await reply.json());
      reason = `config.json answered ${reply.status}`;
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      reason = "config.json could not be loaded";
    }
    onWait(delay, reason);
    await sleep(delay);
    delay = Math.min(delay * 2, 8000);
  }
}

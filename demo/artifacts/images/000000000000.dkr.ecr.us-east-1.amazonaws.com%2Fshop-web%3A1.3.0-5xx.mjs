// Image 000000000000.dkr.ecr.us-east-1.amazonaws.com/shop-web:1.3.0-5xx
// A faulty release: healthy and passes its smoke tests, then answers 500 on user paths once it
// has served 20 user requests (GREENLIGHT_FAIL_AFTER_REQUESTS overrides), so the 5xx alarm
// fires during the bake after the first traffic step and the release rolls back to blue.
import { createShopWeb } from './lib/shop-web.mjs';

export function createApp({ env }) {
  return createShopWeb(
    {
      version: '1.3.0-5xx',
      failAfterRequests: Number(env.GREENLIGHT_FAIL_AFTER_REQUESTS ?? 20),
    },
    env,
  );
}

// Image 000000000000.dkr.ecr.us-east-1.amazonaws.com/shop-web:1.0.0
// What blue runs when the demo starts: healthy, answers GET / with its version.
import { createShopWeb } from './lib/shop-web.mjs';

export function createApp({ env }) {
  return createShopWeb({ version: '1.0.0' }, env);
}

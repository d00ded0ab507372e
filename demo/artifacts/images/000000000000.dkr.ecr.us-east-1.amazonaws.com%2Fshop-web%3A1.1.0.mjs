// Image 000000000000.dkr.ecr.us-east-1.amazonaws.com/shop-web:1.1.0
// A good release: healthy, answers GET / with its version.
import { createShopWeb } from './lib/shop-web.mjs';

export function createApp({ env }) {
  return createShopWeb({ version: '1.1.0' }, env);
}

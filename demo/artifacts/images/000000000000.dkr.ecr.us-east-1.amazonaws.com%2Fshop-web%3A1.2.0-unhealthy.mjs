// Image 000000000000.dkr.ecr.us-east-1.amazonaws.com/shop-web:1.2.0-unhealthy
// A broken release: /health and /ready answer 503, so its tasks never become healthy in the
// target group and the provisioning deadline rolls the release back before any traffic moves.
import { createShopWeb } from './lib/shop-web.mjs';

export function createApp({ env }) {
  return createShopWeb({ version: '1.2.0-unhealthy', failHealth: true }, env);
}

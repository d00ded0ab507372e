// Image 000000000000.dkr.ecr.us-east-1.amazonaws.com/shop-web:1.4.0
// Orders carry a gift message: writes and reads orders.gift_message, which the expand
// shop-001-add-gift-message adds. Needs that expand applied before it takes traffic.
import { createShopWeb } from './lib/shop-web.mjs';

export function createApp({ env }) {
  return createShopWeb({ version: '1.4.0', orderText: 'gift_message' }, env);
}

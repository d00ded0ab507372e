// The "orders" service built for the expand (green in the tests): works on either schema.
export async function handler() {
  return { statusCode: 200, body: JSON.stringify({ ok: true, version: 'new' }) };
}

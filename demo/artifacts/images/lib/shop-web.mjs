/**
 * The demo web service `shop-web`, shared by its image versions. Each version's image module
 * (one file per image URI next to this one) calls `createShopWeb` with what makes it that
 * version: healthy, never healthy, or healthy until it starts failing on real traffic.
 *
 * Routes: GET /health and GET /ready (what the load balancer and the smoke tests call),
 * GET / and anything else as user traffic, answering JSON with the version and the task.
 *
 * With DATABASE_URL in its environment (the local cloud's PostgreSQL, as RDS would be), the
 * shop keeps orders: POST /orders writes one, GET /orders reads the latest. Which column an
 * order's free text goes to is what differs between versions: images up to 1.3.0 write `note`;
 * 1.4.0 writes `gift_message`, which the expand shop-001 adds (src/local/migration-runner).
 * A database error answers 500 with its SQLSTATE, so a schema change that breaks a version
 * breaks that version's requests, as it would in production.
 */

/**
 * @param {object} options
 * @param {string} options.version
 * @param {boolean} [options.failHealth] /health and /ready answer 503: the task never becomes healthy.
 * @param {number} [options.failAfterRequests] After this many user requests, user paths answer 500.
 * @param {number} [options.failAfterMs] After this long since start, user paths answer 500.
 * @param {'note' | 'gift_message'} [options.orderText] The orders column this version writes and reads. Default 'note'.
 * @param {Record<string, string | undefined>} env The container's environment.
 * @returns {import('node:http').RequestListener}
 */
export function createShopWeb(options, env) {
  const startedAt = Date.now();
  const task = env.GREENLIGHT_TASK_ID ?? 'local';
  let served = 0;

  const orders = ordersOf(options.orderText ?? 'note', env.DATABASE_URL);

  const failing = () =>
    (options.failAfterRequests !== undefined && served > options.failAfterRequests) ||
    (options.failAfterMs !== undefined && Date.now() - startedAt > options.failAfterMs);

  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    // Read the request body (if any) before answering, so kept-alive connections stay usable.
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      if (path === '/orders') {
        served += 1;
        const body = Buffer.concat(chunks).toString('utf8');
        return void orders(req.method ?? 'GET', body).then(({ status, body }) =>
          answer(res, status, { ...body, version: options.version, task }),
        );
      }
      if (path === '/health' || path === '/ready') {
        const ok = !options.failHealth;
        return answer(res, ok ? 200 : 503, {
          status: ok ? 'ok' : 'unhealthy',
          version: options.version,
        });
      }
      served += 1;
      if (failing()) {
        return answer(res, 500, { error: 'shop-web failed', version: options.version, task });
      }
      answer(res, 200, { version: options.version, task, path });
    });
  };
}

/**
 * The orders routes of one version, on a small pg pool opened at the first request (pg is
 * loaded only by tasks that have a database).
 *
 * @param {'note' | 'gift_message'} column
 * @param {string | undefined} databaseUrl
 * @returns {(method: string, body: string) => Promise<{ status: number, body: object }>}
 */
function ordersOf(column, databaseUrl) {
  /** @type {Promise<import('pg').Pool> | undefined} */
  let pool;
  const connect = () => {
    pool ??= import('pg').then(({ default: pg }) => {
      const created = new pg.Pool({ connectionString: databaseUrl, max: 2 });
      // An idle client the database drops is replaced at the next query; not a crash.
      created.on('error', () => undefined);
      return created;
    });
    return pool;
  };
  return async (method, body) => {
    if (!databaseUrl) return { status: 503, body: { error: 'shop-web has no DATABASE_URL' } };
    let order = {};
    try {
      if (method === 'POST' && body) order = JSON.parse(body);
    } catch {
      return { status: 400, body: { error: 'the order is not JSON' } };
    }
    try {
      const db = await connect();
      if (method === 'POST') {
        const { rows } = await db.query(
          `INSERT INTO orders (item, quantity, ${column}) VALUES ($1, $2, $3) RETURNING id`,
          [String(order.item ?? 'coffee'), Number(order.quantity ?? 1), order.text ?? null],
        );
        return { status: 201, body: { id: rows[0].id } };
      }
      const { rows } = await db.query(
        `SELECT id, item, quantity, ${column} AS text FROM orders ORDER BY id DESC LIMIT 10`,
      );
      return { status: 200, body: { orders: rows } };
    } catch (error) {
      return {
        status: 500,
        body: { error: 'database', message: error.message, code: error.code ?? null },
      };
    }
  };
}

function answer(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

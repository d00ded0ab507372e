/**
 * The demo web service `shop-web`, shared by its image versions. Each version's image module
 * (one file per image URI next to this one) calls `createShopWeb` with what makes it that
 * version: healthy, never healthy, or healthy until it starts failing on real traffic.
 *
 * Routes: GET /health and GET /ready (what the load balancer and the smoke tests call),
 * GET / and anything else as user traffic, answering JSON with the version and the task.
 */

/**
 * @param {object} options
 * @param {string} options.version
 * @param {boolean} [options.failHealth] /health and /ready answer 503: the task never becomes healthy.
 * @param {number} [options.failAfterRequests] After this many user requests, user paths answer 500.
 * @param {number} [options.failAfterMs] After this long since start, user paths answer 500.
 * @param {Record<string, string | undefined>} env The container's environment.
 * @returns {import('node:http').RequestListener}
 */
export function createShopWeb(options, env) {
  const startedAt = Date.now();
  const task = env.GREENLIGHT_TASK_ID ?? 'local';
  let served = 0;

  const failing = () =>
    (options.failAfterRequests !== undefined && served > options.failAfterRequests) ||
    (options.failAfterMs !== undefined && Date.now() - startedAt > options.failAfterMs);

  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    // Drain the request body (if any) before answering, so kept-alive connections stay usable.
    req.resume();
    req.on('end', () => {
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

function answer(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

import * as z from '../core/zod.ts';

/** Everything a handler reads from its environment, parsed once per process. */
export interface RuntimeConfig {
  ledgerTable: string;
  idempotencyTable: string;
  busName: string;
  /**
   * The registry table (src/aws/dynamo-registry.ts). The services themselves are data, read
   * per release: an environment holds 4 KB, a stage hundreds of services.
   */
  registryTable: string;
  /** Seconds an idempotency record is kept: long enough to cover a whole release's retries. */
  idempotencyTtlSeconds: number;
}

const Environment = z.lazy(() =>
  z.object({
    GREENLIGHT_LEDGER_TABLE: z.string().check(z.minLength(1)),
    GREENLIGHT_IDEMPOTENCY_TABLE: z.string().check(z.minLength(1)),
    GREENLIGHT_BUS_NAME: z.string().check(z.minLength(1)),
    GREENLIGHT_REGISTRY_TABLE: z.string().check(z.minLength(1)),
    GREENLIGHT_IDEMPOTENCY_TTL_SECONDS: z._default(
      z.coerce.number().check(z.int(), z.positive()),
      7 * 24 * 3600,
    ),
  }),
);

export function parseRuntimeConfig(env: Record<string, string | undefined>): RuntimeConfig {
  const parsed = Environment.safeParse(env);
  if (!parsed.success) {
    const names = parsed.error.issues.map((issue) => issue.path.join('.')).join(', ');
    throw new Error(
      `greenlight is missing configuration in its environment: ${names}. The stack sets these; locally, src/local sets them.`,
    );
  }
  const vars = parsed.data;
  return {
    ledgerTable: vars.GREENLIGHT_LEDGER_TABLE,
    idempotencyTable: vars.GREENLIGHT_IDEMPOTENCY_TABLE,
    busName: vars.GREENLIGHT_BUS_NAME,
    registryTable: vars.GREENLIGHT_REGISTRY_TABLE,
    idempotencyTtlSeconds: vars.GREENLIGHT_IDEMPOTENCY_TTL_SECONDS,
  };
}

import { describe, expect, it } from 'vitest';
import { DynamoServiceRegistry } from '../../../src/aws/dynamo-registry.ts';
import { buildRegistry } from '../../../src/runtime/ports/registry.ts';
import {
  composeDependencies,
  createWiring,
  processDependencies,
  type Wiring,
} from '../../../src/runtime/wiring.ts';

const env = {
  GREENLIGHT_LEDGER_TABLE: 'ledger',
  GREENLIGHT_IDEMPOTENCY_TABLE: 'idempotency',
  GREENLIGHT_BUS_NAME: 'greenlight',
  GREENLIGHT_REGISTRY_TABLE: 'registry',
};

describe('createWiring', () => {
  it('builds what a maker makes once, so that the ports of one function share a client', () => {
    const wiring = createWiring(env);
    let made = 0;
    const makeClient = (_: Wiring) => ({ client: ++made });
    expect(wiring.shared(makeClient)).toBe(wiring.shared(makeClient));
    expect(made).toBe(1);
    // Another wiring (another function, in the local cloud's one process) has its own.
    expect(createWiring(env).shared(makeClient)).toEqual({ client: 2 });
  });

  it('parses the environment once, with the configuration every port reads', () => {
    expect(createWiring(env).config).toMatchObject({
      ledgerTable: 'ledger',
      busName: 'greenlight',
      registryTable: 'registry',
    });
  });
});

describe('composeDependencies', () => {
  it('gives the configuration, the clock and what each factory builds, from one wiring', () => {
    const wirings = new Set<Wiring>();
    const deps = composeDependencies(
      env,
      (wiring) => {
        wirings.add(wiring);
        return { ledger: 'the ledger' };
      },
      (wiring) => {
        wirings.add(wiring);
        return { lock: `the lock of ${wiring.config.ledgerTable}` };
      },
    );
    expect(deps).toMatchObject({ ledger: 'the ledger', lock: 'the lock of ledger' });
    expect(deps.config.idempotencyTable).toBe('idempotency');
    expect(deps.now()).toBeInstanceOf(Date);
    expect(wirings.size).toBe(1);
  });

  it('reads the registry from the table the environment names, for functions that name it', () => {
    expect(composeDependencies(env, buildRegistry).registry).toBeInstanceOf(DynamoServiceRegistry);
  });
});

describe('processDependencies', () => {
  it('builds nothing on import, then one set from process.env on first use', () => {
    let built = 0;
    const dependencies = processDependencies(() => ({ built: ++built }));
    expect(built).toBe(0);
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      expect(dependencies()).toBe(dependencies());
    } finally {
      process.env = saved;
    }
    expect(built).toBe(1);
  });
});

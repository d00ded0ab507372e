import type { ServiceConfig } from '../core/service-config.ts';
import { parseRuntimeConfig, type RuntimeConfig } from './config.ts';

export type Environment = Record<string, string | undefined>;

/**
 * What one function's ports are built from: its environment, parsed once, and the AWS clients
 * they share. A port module (src/runtime/ports/) imports only its own adapter and SDK client, so
 * a function's bundle holds the clients of the ports its entry point names and no others:
 * importing a client costs cold start whether or not it is ever sent a request.
 */
export interface Wiring {
  readonly env: Environment;
  readonly config: RuntimeConfig;
  /**
   * What `make` builds, built once per wiring: every DynamoDB port of a function sends through
   * one client, and so through one connection pool. `make` is the key, so it must be a
   * module-level function, never an inline one.
   */
  shared<T>(make: (wiring: Wiring) => T): T;
}

/**
 * A port per target kind (Lambda alias, ALB listener), each made on first use from a
 * module-level maker: a stage with Lambda services only never builds an ALB's clients.
 */
export function byTargetKind<T>(
  wiring: Wiring,
  makers: Record<ServiceConfig['target']['kind'], (wiring: Wiring) => T>,
): (service: ServiceConfig) => T {
  return (service) => wiring.shared(makers[service.target.kind]);
}

/** Builds some ports of a function from its wiring, e.g. `{ ledger }`. */
export type PortFactory<Ports extends object> = (wiring: Wiring) => Ports;

/** What every function gets whatever ports it names: its configuration and the clock. */
export interface BaseDependencies {
  config: RuntimeConfig;
  now(): Date;
}

/** The ports that a list of factories builds, as one object type. */
export type PortsOf<Factories extends readonly PortFactory<object>[]> = Factories extends readonly [
  PortFactory<infer First>,
  ...infer Rest extends readonly PortFactory<object>[],
]
  ? First & PortsOf<Rest>
  : unknown;

export function createWiring(env: Environment): Wiring {
  const config = parseRuntimeConfig(env);
  const built = new Map<(wiring: Wiring) => unknown, unknown>();
  const wiring: Wiring = {
    env,
    config,
    shared<T>(make: (wiring: Wiring) => T): T {
      if (!built.has(make)) built.set(make, make(wiring));
      return built.get(make) as T;
    },
  };
  return wiring;
}

/**
 * A function's dependencies: the configuration and clock, plus what each factory builds, all
 * from one wiring of `env`. SDK clients take region, credentials and endpoint
 * (AWS_ENDPOINT_URL, which is how the local cloud plugs in) from the standard chain.
 */
export function composeDependencies<const Factories extends readonly PortFactory<object>[]>(
  env: Environment,
  ...factories: Factories
): BaseDependencies & PortsOf<Factories> {
  const wiring = createWiring(env);
  const dependencies: BaseDependencies = { config: wiring.config, now: () => new Date() };
  for (const factory of factories) Object.assign(dependencies, factory(wiring));
  return dependencies as BaseDependencies & PortsOf<Factories>;
}

/**
 * A function entry point's dependencies: one set per process (per Lambda execution
 * environment), built from `process.env` on first use, so that importing a handler needs no
 * configuration.
 */
export function processDependencies<const Factories extends readonly PortFactory<object>[]>(
  ...factories: Factories
): () => BaseDependencies & PortsOf<Factories> {
  let built: (BaseDependencies & PortsOf<Factories>) | undefined;
  return () => {
    built ??= composeDependencies(process.env, ...factories);
    return built;
  };
}

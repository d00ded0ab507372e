import type { FieldIssue } from './errors.ts';
import { issuesFromZod } from './resolve-release.ts';
import { type ServiceConfig, type ServiceConfigInput, ServiceRegistry } from './service-config.ts';
import { planWeights } from './weights.ts';

/**
 * Validates the registered services, at deploy and again at load. Reports every problem at
 * once, each with where it is and what to change, because a person reads this message.
 */
export function parseServiceRegistry(input: unknown): ServiceRegistry {
  const parsed = ServiceRegistry.safeParse(input);
  if (!parsed.success) {
    throw new Error(describeIssues(issuesFromZod(parsed.error, 'services')));
  }
  // Zod checks each field; whether a strategy makes a walkable plan is a rule of the domain.
  const issues = parsed.data.flatMap((service, index) => [
    ...planIssues(service, index),
    ...metricGateIssues(service, index),
  ]);
  if (issues.length > 0) {
    throw new Error(describeIssues(issues));
  }
  return parsed.data;
}

export function findService(registry: ServiceRegistry, name: string): ServiceConfig | undefined {
  return registry.find((service) => service.name === name);
}

/**
 * Where the registered services are read from at run time: data, not the functions'
 * environment, so that a stage of hundreds of services keeps every function's environment
 * constant and a registration changes without rebuilding the functions.
 */
export interface ServiceRegistryReader {
  /**
   * The service's current registration, or undefined when it is not registered. `fresh` reads
   * past any cache: Register uses it, so the release after a change sees the change.
   */
  find(name: string, options?: { fresh?: boolean }): Promise<ServiceConfig | undefined>;
  /** Every registered service, in name order. */
  list(): Promise<ServiceRegistry>;
}

/** What `greenlight config apply` and the deploy write registrations through. */
export interface ServiceRegistryWriter {
  /** Registers (or re-registers) each service as given; validated by the caller. */
  put(services: readonly ServiceConfigInput[], by: string): Promise<void>;
  /** Takes services out of the registry: greenlight no longer acts on them. */
  remove(names: readonly string[]): Promise<void>;
}

/** A registry held in memory: tests, and registries parsed from a config file. */
export class StaticServiceRegistry implements ServiceRegistryReader {
  readonly #services: ServiceRegistry;

  constructor(services: ServiceRegistry) {
    this.#services = [...services].sort((a, b) => a.name.localeCompare(b.name));
  }

  async find(name: string): Promise<ServiceConfig | undefined> {
    return findService(this.#services, name);
  }

  async list(): Promise<ServiceRegistry> {
    return this.#services;
  }
}

function planIssues(service: ServiceConfig, index: number): FieldIssue[] {
  return Object.entries(service.strategies).flatMap(([name, strategy]) => {
    try {
      planWeights(strategy);
      return [];
    } catch (error) {
      return [
        {
          path: `services[${index}].strategies.${name}`,
          message: error instanceof Error ? error.message : String(error),
        },
      ];
    }
  });
}

/**
 * A gate that only compares green with blue (`maxAboveBlue`) can never look under a strategy
 * that puts all traffic on green in one step: blue takes none to compare with, so every such
 * release would roll back as inconclusive. Said at load, with the fix, instead.
 */
function metricGateIssues(service: ServiceConfig, index: number): FieldIssue[] {
  const allAtOnce = Object.entries(service.strategies)
    .filter(([, strategy]) => {
      try {
        return planWeights(strategy).every((step) => step.percent >= 100);
      } catch {
        return false;
      }
    })
    .map(([name]) => name);
  if (allAtOnce.length === 0) return [];
  return service.metricGates.flatMap((gate, i) =>
    gate.max === undefined
      ? [
          {
            path: `services[${index}].metricGates[${i}]`,
            message: `gate "${gate.name}" only compares green with blue (maxAboveBlue), but strategy ${allAtOnce.map((n) => `"${n}"`).join(', ')} moves all traffic at once, leaving blue nothing to compare; add "max" or remove that strategy`,
          },
        ]
      : [],
  );
}

function describeIssues(issues: readonly FieldIssue[]): string {
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  const lines = issues.map((issue) => `  - ${issue.path || 'services'}: ${issue.message}`);
  return [`Service registry is invalid (${count}); fix the service configuration:`, ...lines].join(
    '\n',
  );
}

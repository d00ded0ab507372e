import type { FieldIssue } from './errors.ts';
import { issuesFromZod } from './resolve-release.ts';
import { type ServiceConfig, ServiceRegistry } from './service-config.ts';
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
  const issues = parsed.data.flatMap((service, index) => planIssues(service, index));
  if (issues.length > 0) {
    throw new Error(describeIssues(issues));
  }
  return parsed.data;
}

export function findService(registry: ServiceRegistry, name: string): ServiceConfig | undefined {
  return registry.find((service) => service.name === name);
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

function describeIssues(issues: readonly FieldIssue[]): string {
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  const lines = issues.map((issue) => `  - ${issue.path || 'services'}: ${issue.message}`);
  return [`Service registry is invalid (${count}); fix the service configuration:`, ...lines].join(
    '\n',
  );
}

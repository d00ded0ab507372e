import { findService } from '../core/registry.ts';
import type { ServiceConfig } from '../core/service-config.ts';
import type { StepDependencies } from '../runtime/dependencies.ts';

/** The registered configuration of a release's service; it was checked at Register. */
export function serviceOf(deps: Pick<StepDependencies, 'config'>, name: string): ServiceConfig {
  const service = findService(deps.config.registry, name);
  if (!service) {
    throw new Error(
      `Service "${name}" is no longer registered; it was removed while its release ran. Register it again to finish or roll back.`,
    );
  }
  return service;
}

import type { ServiceConfig } from '../core/service-config.ts';
import type { StepDependencies } from '../runtime/dependencies.ts';

/** The registered configuration of a release's service; it was checked at Register. */
export async function serviceOf(
  deps: Pick<StepDependencies, 'registry'>,
  name: string,
): Promise<ServiceConfig> {
  const service = await deps.registry.find(name);
  if (!service) {
    throw new Error(
      `Service "${name}" is no longer registered; it was removed while its release ran. Register it again to finish or roll back.`,
    );
  }
  return service;
}

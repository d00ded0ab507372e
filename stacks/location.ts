import type { AwsLocation } from '../src/infra/names.ts';

/** The account, region and partition the stage deploys to, as the provider resolves them. */
export function awsLocation(): $util.Output<AwsLocation> {
  return $util
    .all([
      aws.getPartitionOutput().partition,
      aws.getRegionOutput().region,
      aws.getCallerIdentityOutput().accountId,
    ])
    .apply(([partition, region, accountId]) => ({ partition, region, accountId }));
}

/** `provision-green` → `ProvisionGreen`: Pulumi logical names of per-function resources. */
export function logicalName(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, _dash, letter: string) => letter.toUpperCase());
}

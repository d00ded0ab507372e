import type { IdleCost } from './records.ts';

/**
 * On-demand list prices in US East (N. Virginia), in US dollars, as AWS publishes them on the
 * Fargate and Lambda pricing pages. Other regions charge differently (most a little more), and
 * Savings Plans or Spot less: every figure built from these is an estimate, and says so.
 */
export const ListPrices = {
  region: 'us-east-1',
  /** Per running task: its task-level vCPU and memory, billed per second. */
  fargate: {
    X86_64: { vcpuHour: 0.04048, gbHour: 0.004445 },
    ARM64: { vcpuHour: 0.03238, gbHour: 0.00356 },
  },
  /** Per configured execution environment, for as long as it is configured. */
  lambdaProvisionedConcurrency: {
    x86_64: { gbSecond: 0.0000041667 },
    arm64: { gbSecond: 0.0000033334 },
  },
} as const;

const cpuUnitsPerVcpu = 1024;
const mibPerGb = 1024;

/** `desired tasks x task CPU/memory x Fargate price per hour`. */
export function estimateFargateCost(input: {
  tasks: number;
  /** Task-level CPU units (`"512"` is half a vCPU), as the task definition gives them. */
  cpu?: string | undefined;
  /** Task-level memory in MiB. */
  memory?: string | undefined;
  /** `X86_64` (the default) or `ARM64`. */
  architecture?: string | undefined;
}): IdleCost {
  const tasks = `${input.tasks} ${input.tasks === 1 ? 'task' : 'tasks'}`;
  if (input.tasks === 0) return { hourlyUsd: 0, basis: '0 tasks running: no cost while idle' };
  const cpuUnits = Number(input.cpu);
  const memoryMib = Number(input.memory);
  if (!(cpuUnits > 0 && memoryMib > 0)) {
    return {
      basis: `${tasks}; the task definition has no task-level CPU and memory (EC2 capacity is billed by instance), so no estimate`,
    };
  }
  const architecture = input.architecture === 'ARM64' ? 'ARM64' : 'X86_64';
  const price = ListPrices.fargate[architecture];
  const vcpu = cpuUnits / cpuUnitsPerVcpu;
  const gb = memoryMib / mibPerGb;
  const hourlyUsd = input.tasks * (vcpu * price.vcpuHour + gb * price.gbHour);
  return {
    hourlyUsd,
    basis: `${tasks} x ${trim(vcpu)} vCPU, ${trim(gb)} GB on Fargate (${architecture}, ${ListPrices.region} list price)`,
  };
}

/** `concurrency x memory x provisioned concurrency price`, or nothing when none is configured. */
export function estimateProvisionedConcurrencyCost(input: {
  concurrency: number;
  memoryMb: number;
  /** `x86_64` (the default) or `arm64`. */
  architecture?: string | undefined;
}): IdleCost {
  if (input.concurrency <= 0) {
    return { hourlyUsd: 0, basis: 'no provisioned concurrency: no cost while idle' };
  }
  const architecture = input.architecture === 'arm64' ? 'arm64' : 'x86_64';
  const gb = input.memoryMb / mibPerGb;
  const hourlyUsd =
    input.concurrency * gb * 3600 * ListPrices.lambdaProvisionedConcurrency[architecture].gbSecond;
  return {
    hourlyUsd,
    basis: `provisioned concurrency ${input.concurrency} x ${input.memoryMb} MB (${architecture}, ${ListPrices.region} list price)`,
  };
}

/** `~$0.0741/h`, or `no estimate` when the cost is unknown. */
export function formatHourlyCost(cost: IdleCost): string {
  if (cost.hourlyUsd === undefined) return 'no estimate';
  if (cost.hourlyUsd === 0) return '$0/h';
  const digits = cost.hourlyUsd >= 1 ? 2 : 4;
  return `~$${cost.hourlyUsd.toFixed(digits)}/h`;
}

function trim(value: number): string {
  return String(Number(value.toFixed(3)));
}

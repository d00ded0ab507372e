import { describe, expect, it } from 'vitest';
import {
  estimateFargateCost,
  estimateProvisionedConcurrencyCost,
  formatHourlyCost,
  ListPrices,
} from '../../../src/core/idle-cost.ts';

describe('estimateFargateCost', () => {
  it('multiplies desired tasks by task vCPU and memory at the Fargate price', () => {
    const cost = estimateFargateCost({ tasks: 2, cpu: '512', memory: '1024' });
    const perTask = 0.5 * ListPrices.fargate.X86_64.vcpuHour + 1 * ListPrices.fargate.X86_64.gbHour;
    expect(cost.hourlyUsd).toBeCloseTo(2 * perTask, 10);
    expect(cost.basis).toBe('2 tasks x 0.5 vCPU, 1 GB on Fargate (X86_64, us-east-1 list price)');
    expect(formatHourlyCost(cost)).toBe('~$0.0494/h');
  });

  it('uses the Graviton price for ARM64 task definitions', () => {
    const cost = estimateFargateCost({
      tasks: 1,
      cpu: '1024',
      memory: '2048',
      architecture: 'ARM64',
    });
    expect(cost.hourlyUsd).toBeCloseTo(
      ListPrices.fargate.ARM64.vcpuHour + 2 * ListPrices.fargate.ARM64.gbHour,
      10,
    );
  });

  it('says when there is no task-level size to price', () => {
    const cost = estimateFargateCost({ tasks: 3 });
    expect(cost.hourlyUsd).toBeUndefined();
    expect(cost.basis).toContain('no task-level CPU and memory');
    expect(formatHourlyCost(cost)).toBe('no estimate');
  });

  it('costs nothing with no tasks running', () => {
    expect(estimateFargateCost({ tasks: 0, cpu: '512', memory: '1024' }).hourlyUsd).toBe(0);
  });
});

describe('estimateProvisionedConcurrencyCost', () => {
  it('prices configured concurrency by memory for an hour', () => {
    const cost = estimateProvisionedConcurrencyCost({ concurrency: 10, memoryMb: 2048 });
    expect(cost.hourlyUsd).toBeCloseTo(
      10 * 2 * 3600 * ListPrices.lambdaProvisionedConcurrency.x86_64.gbSecond,
      10,
    );
    expect(formatHourlyCost(cost)).toBe('~$0.3000/h');
  });

  it('has no cost while idle without provisioned concurrency', () => {
    expect(estimateProvisionedConcurrencyCost({ concurrency: 0, memoryMb: 512 })).toEqual({
      hourlyUsd: 0,
      basis: 'no provisioned concurrency: no cost while idle',
    });
  });
});

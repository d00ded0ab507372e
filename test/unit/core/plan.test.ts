import { describe, expect, it } from 'vitest';
import type { MetricQuery } from '../../../src/core/metric-gate.ts';
import { type PlanPorts, planRelease, type TargetInspection } from '../../../src/core/plan.ts';
import type { AlarmEvidence, IdleCost } from '../../../src/core/records.ts';
import { StaticServiceRegistry } from '../../../src/core/registry.ts';
import type { Artifact } from '../../../src/core/release-event.ts';
import type { ServiceConfig, ServiceConfigInput } from '../../../src/core/service-config.ts';
import { aService, aTime } from '../../support/builders.ts';

const okAlarm = (name: string, dims: Record<string, string>): AlarmEvidence => ({
  name,
  state: 'OK',
  reason: 'fine',
  updatedAt: aTime,
  namespace: 'AWS/Lambda',
  metric: 'Errors',
  dimensions: dims,
});

const greenAlarm = okAlarm('checkout-errors', {
  FunctionName: 'checkout',
  Resource: 'checkout:live',
  ExecutedVersion: '8',
});

const readyTarget: TargetInspection = {
  checks: [{ check: 'alias checkout:live', ok: true, detail: 'exists' }],
  colours: { blue: '7', green: '8' },
};

interface Fakes {
  services?: ServiceConfig[];
  inspection?: TargetInspection | (() => Promise<TargetInspection>);
  alarms?: AlarmEvidence[];
  metricValues?: number[];
  idleCost?: IdleCost;
  channel?: { ok: boolean; detail: string };
  /** What the artifact probe answers, or throws; no probe when absent. */
  readable?: { ok: boolean; detail: string } | Error;
}

function ports(fakes: Fakes = {}) {
  const metricQueries: MetricQuery[][] = [];
  const windows: { start: Date; end: Date }[] = [];
  const inspected: string[] = [];
  const read: Artifact[] = [];
  const p: PlanPorts = {
    registry: new StaticServiceRegistry(fakes.services ?? [aService()]),
    inspectorFor: () => ({
      inspect: async (service) => {
        inspected.push(service.name);
        const i = fakes.inspection ?? readyTarget;
        return typeof i === 'function' ? i() : i;
      },
    }),
    idleCost: async () => fakes.idleCost ?? { hourlyUsd: 0, basis: 'no provisioned concurrency' },
    alarms: { describe: async () => fakes.alarms ?? [greenAlarm] },
    metrics: {
      query: async (queries, window) => {
        metricQueries.push([...queries]);
        windows.push(window);
        return queries.map((q) => ({ id: q.id, values: fakes.metricValues ?? [] }));
      },
    },
    ...(fakes.channel === undefined
      ? {}
      : {
          approvalChannel: {
            reachable: async () => fakes.channel as { ok: boolean; detail: string },
          },
        }),
    ...(fakes.readable === undefined
      ? {}
      : {
          artifacts: {
            readable: async (artifact: Artifact) => {
              read.push(artifact);
              if (fakes.readable instanceof Error) throw fakes.readable;
              return fakes.readable as { ok: boolean; detail: string };
            },
          },
        }),
    now: new Date(aTime),
  };
  return { ports: p, metricQueries, windows, inspected, read };
}

const failed = (plan: Awaited<ReturnType<typeof planRelease>>) =>
  plan.checks.filter((c) => !c.ok).map((c) => c.check);

function service(overrides: Partial<ServiceConfigInput>): ServiceConfig {
  return aService(overrides);
}

describe('planRelease', () => {
  it('passes a ready service and plans its canary: steps, gates, approval, warm window, cost', async () => {
    const { ports: p } = ports({ idleCost: { hourlyUsd: 0.05, basis: '2 tasks' } });
    const plan = await planRelease(p, { service: 'checkout', version: '1.2.0' });

    expect(failed(plan)).toEqual([]);
    expect(plan.ok).toBe(true);
    expect(plan).toMatchObject({
      service: 'checkout',
      version: '1.2.0',
      strategy: 'canary',
      colours: { blue: '7', green: '8' },
      steps: [
        { index: 0, weight: 10, bakeSeconds: 60, approxSeconds: 60 },
        { index: 1, weight: 100, bakeSeconds: 0, approxSeconds: 0 },
      ],
      approxSeconds: { bakes: 60, withHolds: 60 },
      gates: { alarms: [{ name: 'checkout-errors', scope: 'green' }], metricGates: [] },
      approval: { type: 'none' },
      warmWindowSeconds: 900,
      idleCost: { hourlyUsd: 0.05, basis: '2 tasks' },
    });
  });

  it('fails an unregistered service, and reads nothing else', async () => {
    const { ports: p, inspected } = ports();
    const plan = await planRelease(p, { service: 'payments' });
    expect(plan.ok).toBe(false);
    expect(plan.checks).toEqual([
      expect.objectContaining({
        check: 'registry',
        ok: false,
        detail: expect.stringContaining('"payments" is not registered'),
      }),
    ]);
    expect(inspected).toEqual([]);
  });

  it('fails a strategy the service does not define, naming the ones it does', async () => {
    const plan = await planRelease(ports().ports, { service: 'checkout', strategy: 'linear' });
    expect(failed(plan)).toEqual(['strategy']);
    expect(plan.checks.at(-1)?.detail).toContain('canary, all-at-once');
  });

  it('plans the strategy asked for rather than the default', async () => {
    const plan = await planRelease(ports().ports, { service: 'checkout', strategy: 'all-at-once' });
    expect(plan.steps).toEqual([{ index: 0, weight: 100, bakeSeconds: 0, approxSeconds: 0 }]);
  });

  it("carries the target's failed checks ($LATEST routed) and still checks the rest", async () => {
    const { ports: p } = ports({
      inspection: {
        checks: [
          { check: 'alias checkout:live', ok: true, detail: 'exists' },
          { check: '$LATEST not routed', ok: false, detail: 'routes traffic to $LATEST' },
        ],
      },
    });
    const plan = await planRelease(p, { service: 'checkout' });
    expect(failed(plan)).toEqual(['$LATEST not routed']);
    // Without colours the plan cannot say what the release would find, but still says what it does.
    expect(plan.colours).toBeUndefined();
    expect(plan.steps).toHaveLength(2);
    expect(plan.idleCost).toBeUndefined();
  });

  it('turns a target that cannot be read at all into a failed check, not a crash', async () => {
    const { ports: p } = ports({
      inspection: async () => {
        throw Object.assign(new Error('no such function'), { name: 'ResourceNotFoundException' });
      },
    });
    const plan = await planRelease(p, { service: 'checkout' });
    expect(plan.checks).toContainEqual({
      check: 'target',
      ok: false,
      detail: 'could not be read: ResourceNotFoundException: no such function',
    });
  });

  it('fails a missing gate alarm', async () => {
    const plan = await planRelease(ports({ alarms: [] }).ports, { service: 'checkout' });
    expect(failed(plan)).toEqual(['alarm checkout-errors']);
    expect(plan.checks.find((c) => c.check === 'alarm checkout-errors')?.detail).toContain(
      'does not exist',
    );
  });

  it('fails a gate alarm without data', async () => {
    const plan = await planRelease(
      ports({ alarms: [{ ...greenAlarm, state: 'INSUFFICIENT_DATA' }] }).ports,
      { service: 'checkout' },
    );
    expect(failed(plan)).toEqual(['alarm checkout-errors']);
    expect(plan.checks.find((c) => !c.ok)?.detail).toContain('INSUFFICIENT_DATA');
  });

  it('fails a gate alarm that watches blue instead of green', async () => {
    const onBlue = okAlarm('checkout-errors', {
      FunctionName: 'checkout',
      Resource: 'checkout:live',
      ExecutedVersion: '7',
    });
    const plan = await planRelease(ports({ alarms: [onBlue] }).ports, { service: 'checkout' });
    expect(plan.checks.find((c) => !c.ok)?.detail).toContain('watches version 7 (blue)');
  });

  it('fails a gate alarm that is firing', async () => {
    const plan = await planRelease(
      ports({ alarms: [{ ...greenAlarm, state: 'ALARM', reason: 'errors' }] }).ports,
      { service: 'checkout' },
    );
    expect(plan.checks.find((c) => !c.ok)?.detail).toBe('Alarm checkout-errors in ALARM: errors');
  });

  it("accepts a service-wide alarm on the alias, which doesn't watch green alone", async () => {
    const aliasAlarm = okAlarm('checkout-errors', {
      FunctionName: 'checkout',
      Resource: 'checkout:live',
    });
    const plan = await planRelease(
      ports({
        services: [service({ alarms: [{ name: 'checkout-errors', scope: 'service' }] })],
        alarms: [aliasAlarm],
      }).ports,
      { service: 'checkout' },
    );
    expect(plan.checks.find((c) => c.check === 'alarm checkout-errors')).toEqual({
      check: 'alarm checkout-errors',
      ok: true,
      detail: 'OK, service-wide',
    });
  });

  describe('artifact', () => {
    it('says it was not checked when none is given', async () => {
      const plan = await planRelease(ports().ports, { service: 'checkout' });
      expect(plan.checks.find((c) => c.check === 'artifact')).toMatchObject({
        ok: true,
        detail: expect.stringContaining('not checked'),
      });
    });

    it('passes an artifact from a listed bucket', async () => {
      const plan = await planRelease(ports().ports, {
        service: 'checkout',
        artifact: { s3: { bucket: 'greenlight-artifacts', key: 'checkout/1.2.0.zip' } },
      });
      expect(failed(plan)).toEqual([]);
    });

    it('fails an artifact from a bucket the service does not list', async () => {
      const plan = await planRelease(ports().ports, {
        service: 'checkout',
        artifact: { s3: { bucket: 'elsewhere', key: 'checkout/1.2.0.zip' } },
      });
      expect(failed(plan)).toEqual(['artifact']);
      expect(plan.checks.find((c) => !c.ok)?.detail).toContain(
        'bucket "elsewhere" is not an artifact source of "checkout"',
      );
    });

    const zip: Artifact = { s3: { bucket: 'greenlight-artifacts', key: 'checkout/1.2.0.zip' } };

    it('reads an allowed artifact with the caller’s credentials, and passes when it can', async () => {
      const fakes = ports({ readable: { ok: true, detail: 'readable (HeadObject: 812 bytes)' } });
      const plan = await planRelease(fakes.ports, { service: 'checkout', artifact: zip });
      expect(fakes.read).toEqual([zip]);
      expect(plan.checks.filter((c) => c.check.startsWith('artifact'))).toEqual([
        {
          check: 'artifact',
          ok: true,
          detail:
            's3://greenlight-artifacts/checkout/1.2.0.zip is from an artifact source of checkout',
        },
        { check: 'artifact readable', ok: true, detail: 'readable (HeadObject: 812 bytes)' },
      ]);
      expect(plan.ok).toBe(true);
    });

    it('fails an artifact that cannot be read, with what the probe found', async () => {
      const detail = 's3://greenlight-artifacts/checkout/1.2.0.zip does not exist';
      const plan = await planRelease(ports({ readable: { ok: false, detail } }).ports, {
        service: 'checkout',
        artifact: zip,
      });
      expect(failed(plan)).toEqual(['artifact readable']);
      expect(plan.checks.find((c) => !c.ok)?.detail).toBe(detail);
      expect(plan.ok).toBe(false);
    });

    it('turns a probe that throws into a failed check, not a crash', async () => {
      const boom = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
      const plan = await planRelease(ports({ readable: boom }).ports, {
        service: 'checkout',
        artifact: zip,
      });
      expect(plan.checks.find((c) => c.check === 'artifact readable')).toEqual({
        check: 'artifact readable',
        ok: false,
        detail: 'could not be read: TimeoutError: socket hang up',
      });
    });

    it('does not read an artifact from a source the service does not list', async () => {
      const fakes = ports({ readable: { ok: true, detail: 'readable' } });
      const plan = await planRelease(fakes.ports, {
        service: 'checkout',
        artifact: { s3: { bucket: 'elsewhere', key: 'checkout/1.2.0.zip' } },
      });
      expect(failed(plan)).toEqual(['artifact']);
      expect(fakes.read).toEqual([]);
    });

    it('fails an image for a Lambda service, which deploys zips', async () => {
      const plan = await planRelease(ports().ports, {
        service: 'checkout',
        artifact: { imageUri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/other:1' },
      });
      expect(failed(plan)).toEqual(['artifact']);
    });
  });

  describe('metric gates', () => {
    const gated = service({
      alarms: [],
      strategies: { canary: { type: 'canary', percent: 10, bakeSeconds: 60 } },
      metricGates: [{ name: 'errors', metric: 'error-rate', maxAboveBlue: 1, maxHoldSeconds: 120 }],
    });

    it("asks for blue's request count over the lookback, and passes when it has data", async () => {
      const { ports: p, metricQueries, windows } = ports({ services: [gated], metricValues: [42] });
      const plan = await planRelease(p, { service: 'checkout' });
      expect(failed(plan)).toEqual([]);
      expect(metricQueries).toEqual([
        [
          expect.objectContaining({
            colour: 'blue',
            metric: 'Invocations',
            dimensions: {
              FunctionName: 'checkout',
              Resource: 'checkout:live',
              ExecutedVersion: '7',
            },
          }),
        ],
      ]);
      expect(windows[0]?.end.toISOString()).toBe(new Date(aTime).toISOString());
      // Each step may hold up to maxHoldSeconds beyond its bake.
      expect(plan.steps.map((s) => s.approxSeconds)).toEqual([180, 120]);
      expect(plan.approxSeconds).toEqual({ bakes: 60, withHolds: 300 });
      expect(plan.gates.metricGates).toEqual(['errors']);
    });

    it("fails when blue's metric has no datapoints", async () => {
      const plan = await planRelease(ports({ services: [gated], metricValues: [] }).ports, {
        service: 'checkout',
      });
      expect(failed(plan)).toEqual(['metric gate errors']);
      expect(plan.checks.find((c) => !c.ok)?.detail).toContain(
        'AWS/Lambda Invocations has no datapoints',
      );
    });
  });

  describe('approval', () => {
    const slack = service({
      approval: { type: 'slack', channel: 'C0RELEASES', approvers: ['U024BE7LH'] },
    });

    it('names the channel and approvers, and fails an unreachable channel', async () => {
      const plan = await planRelease(
        ports({ services: [slack], channel: { ok: false, detail: 'channel_not_found' } }).ports,
        { service: 'checkout' },
      );
      expect(plan.approval).toMatchObject({ channel: 'C0RELEASES', approvers: ['U024BE7LH'] });
      expect(plan.checks).toContainEqual({
        check: 'approval channel C0RELEASES',
        ok: false,
        detail: 'channel_not_found',
      });
    });

    it('says the channel was not checked when Slack cannot be asked', async () => {
      const plan = await planRelease(ports({ services: [slack] }).ports, { service: 'checkout' });
      expect(plan.ok).toBe(true);
      expect(plan.checks.at(-1)?.detail).toContain('not checked: no SLACK_BOT_TOKEN');
    });

    it('checks the release-updates channel too, with the approval channel', async () => {
      const withUpdates = service({
        approval: { type: 'slack', channel: 'C0RELEASES', approvers: ['U024BE7LH'] },
        updates: { channel: 'C0DEPLOYS' },
      });
      const asked: string[] = [];
      const { ports: p } = ports({ services: [withUpdates] });
      p.approvalChannel = {
        reachable: async (channel) => {
          asked.push(channel);
          return channel === 'C0DEPLOYS'
            ? { ok: false, detail: 'channel_not_found' }
            : { ok: true, detail: 'visible' };
        },
      };
      const plan = await planRelease(p, { service: 'checkout' });
      expect(asked).toEqual(['C0RELEASES', 'C0DEPLOYS']);
      expect(failed(plan)).toEqual(['updates channel C0DEPLOYS']);
    });

    it('checks the updates channel of a service without approval', async () => {
      const updatesOnly = service({ updates: { channel: 'C0DEPLOYS' } });
      const plan = await planRelease(ports({ services: [updatesOnly] }).ports, {
        service: 'checkout',
      });
      expect(plan.checks.at(-1)).toMatchObject({
        check: 'updates channel C0DEPLOYS',
        ok: true,
        detail: expect.stringContaining('not checked'),
      });
    });

    it('fails a channel Slack could not be asked about, naming why', async () => {
      const { ports: p } = ports({ services: [slack] });
      p.approvalChannel = {
        reachable: async () => {
          throw new Error('ratelimited');
        },
      };
      const plan = await planRelease(p, { service: 'checkout' });
      expect(plan.checks.at(-1)).toEqual({
        check: 'approval channel C0RELEASES',
        ok: false,
        detail: 'could not be reached: Error: ratelimited',
      });
    });
  });
});

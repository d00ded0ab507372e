import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/cli/exit-codes.ts';
import { type DecisionClients, runDecisionCommand } from '../../../src/cli/operator-commands.ts';
import type { CallerIdentitySource } from '../../../src/core/caller-identity.ts';
import type {
  ApprovalStore,
  CallbackOutcome,
  ReleaseLedger,
  TaskCallbacks,
} from '../../../src/core/ports.ts';
import type { ApprovalRecord, ReleaseRecord, StepRecord } from '../../../src/core/records.ts';
import { StaticServiceRegistry } from '../../../src/core/registry.ts';
import type { ServiceConfigInput } from '../../../src/core/service-config.ts';
import { aReleaseRecord, aService } from '../../support/builders.ts';
import { aContext } from './fixtures.ts';

// `greenlight approve|reject` as a caller with given AWS credentials: who STS says they are is
// checked against the service's approval config and recorded beside the name they typed.
const releaseId = 'checkout-1-4-2-a1-665d64bf8e';
const approvalId = `${releaseId}-before-shift`;
const account = '123456789012';
const leadSession = `arn:aws:sts::${account}:assumed-role/AWSReservedSSO_Leads_0a1b/lee@example.com`;
const strangerArn = `arn:aws:iam::${account}:user/mallory`;

class FixedIdentity implements CallerIdentitySource {
  calls = 0;
  readonly #arn: string | Error;
  constructor(arn: string | Error) {
    this.#arn = arn;
  }
  async whoAmI() {
    this.calls += 1;
    if (this.#arn instanceof Error) throw this.#arn;
    return { arn: this.#arn, account, userId: 'AIDAEXAMPLE' };
  }
}

class MemoryApprovals implements ApprovalStore {
  readonly records = new Map<string, ApprovalRecord>();
  async create(record: ApprovalRecord) {
    this.records.set(record.approvalId, record);
    return record;
  }
  async get(id: string) {
    return this.records.get(id);
  }
  async decide(id: string, decision: Parameters<ApprovalStore['decide']>[1]) {
    const stored = this.records.get(id);
    if (!stored) throw new Error(`no approval ${id}`);
    if (stored.status !== 'pending') return { decided: false, record: stored };
    const { by, at, via, ...rest } = decision;
    const record = { ...stored, ...rest, decidedBy: by, decidedAt: at, decidedVia: via };
    this.records.set(id, record);
    return { decided: true, record };
  }
  async attachMessage() {}
}

class RecordingCallbacks implements TaskCallbacks {
  readonly sent: unknown[] = [];
  async succeed(taskToken: string, output: unknown): Promise<CallbackOutcome> {
    this.sent.push({ succeed: taskToken, output });
    return { delivered: true };
  }
  async fail(taskToken: string, error: string, cause: string): Promise<CallbackOutcome> {
    this.sent.push({ fail: taskToken, error, cause });
    return { delivered: true };
  }
}

class MemoryLedger implements ReleaseLedger {
  readonly steps: StepRecord[] = [];
  release: ReleaseRecord;
  constructor(release: ReleaseRecord) {
    this.release = release;
  }
  async getRelease(id: string) {
    return id === this.release.releaseId ? this.release : undefined;
  }
  async updateRelease(_id: string, patch: Partial<ReleaseRecord>) {
    this.release = { ...this.release, ...patch };
    return this.release;
  }
  async recordStep(_id: string, step: StepRecord) {
    this.steps.push(step);
  }
  async listSteps() {
    return [...this.steps];
  }
  async listReleases() {
    return [this.release];
  }
  createRelease(): never {
    throw new Error('not used');
  }
  recordRejection(): never {
    throw new Error('not used');
  }
  claimIdleTeardown(): never {
    throw new Error('not used');
  }
  async getRejection() {
    return undefined;
  }
}

type SlackApprovalInput = Extract<ServiceConfigInput['approval'], { type: 'slack' }>;

function world(options: {
  approval?: Partial<SlackApprovalInput>;
  caller: string | Error;
  stage?: 'before-migration' | 'before-shift';
}) {
  const approvals = new MemoryApprovals();
  const stage = options.stage ?? 'before-shift';
  void approvals.create({
    approvalId: `${releaseId}-${stage}`,
    releaseId,
    service: 'checkout',
    version: '1.4.2',
    stage,
    taskToken: 'token-1',
    status: 'pending',
    requestedAt: '2026-11-21T09:00:00.000Z',
    expiresAt: '2026-11-22T09:00:00.000Z',
  });
  const ledger = new MemoryLedger(
    aReleaseRecord({ releaseId, phase: 'AwaitingApproval', strategy: 'canary' }),
  );
  const callbacks = new RecordingCallbacks();
  const identity = new FixedIdentity(options.caller);
  const registry = new StaticServiceRegistry([
    aService({
      approval: {
        type: 'slack',
        channel: 'C0RELEASES',
        approvers: ['U0LEE', 'U0DANA'],
        ...options.approval,
      },
    }),
  ]);
  const clients: DecisionClients = { ledger, approvals, callbacks, identity, registry };
  const connected: unknown[] = [];
  return {
    approvals,
    ledger,
    callbacks,
    identity,
    connected,
    connect: (shared: unknown) => {
      connected.push(shared);
      return clients;
    },
  };
}

const mapped: Partial<SlackApprovalInput> = {
  principals: [
    {
      arn: `arn:aws:iam::${account}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Leads_0a1b`,
      approver: 'U0LEE',
    },
    { arn: `arn:aws:iam::${account}:user/dana`, approver: 'U0DANA' },
  ],
};

describe('greenlight approve at the before-migration stage', () => {
  it('finds the migration approval waiting, or takes it by --stage; a hold is not an approval', async () => {
    const w = world({ caller: strangerArn, stage: 'before-migration' });
    const { context, err } = aContext({ USER: 'dana' });

    expect(
      await runDecisionCommand(
        'approve',
        [releaseId, '--stage', 'forward-only-hold', '--actor', 'U0DANA'],
        context,
        w.connect,
      ),
    ).toBe(2);
    expect(err[0]).toBe(
      'greenlight approve: --stage must be before-migration, before-shift or before-finalize, got "forward-only-hold".',
    );
    expect(
      await runDecisionCommand('approve', [releaseId, '--actor', 'U0DANA'], context, w.connect),
    ).toBe(0);
    expect(w.approvals.records.get(`${releaseId}-before-migration`)).toMatchObject({
      status: 'approved',
      decidedBy: 'U0DANA',
    });
    expect(w.callbacks.sent).toEqual([
      expect.objectContaining({
        succeed: 'token-1',
        output: expect.objectContaining({ stage: 'before-migration' }),
      }),
    ]);
  });
});

describe('greenlight approve with approvers mapped from AWS principals', () => {
  it('refuses a principal that maps to no approver: exit 8, nothing recorded, no callback', async () => {
    const w = world({ approval: mapped, caller: strangerArn });
    const { context, out, err } = aContext({ USER: 'dana' });

    const code = await runDecisionCommand(
      'approve',
      [releaseId, '--actor', 'U0DEMOLEAD'],
      context,
      w.connect,
    );

    expect(code).toBe(ExitCode.NotAnApprover);
    expect(code).toBe(8);
    expect(err).toEqual([
      `greenlight approve: AWS principal ${strangerArn} maps to no approver of checkout (approval.principals in its configuration); nothing was decided. Decide in Slack, or have the principal mapped to an approver.`,
    ]);
    expect(out).toEqual([]);
    expect(w.approvals.records.get(approvalId)?.status).toBe('pending');
    expect(w.callbacks.sent).toEqual([]);
    expect(w.ledger.steps).toEqual([]);
    expect(w.ledger.release.phase).toBe('AwaitingApproval');
  });

  it('refuses a rejection by a non-approver the same way', async () => {
    const w = world({ approval: mapped, caller: strangerArn });
    const { context } = aContext({ USER: 'mallory' });

    const code = await runDecisionCommand(
      'reject',
      [releaseId, '--reason', 'because'],
      context,
      w.connect,
    );

    expect(code).toBe(8);
    expect(w.approvals.records.get(approvalId)?.status).toBe('pending');
    expect(w.callbacks.sent).toEqual([]);
  });

  it('records an SSO session of a mapped role as its approver, with the principal beside the typed name', async () => {
    const w = world({ approval: mapped, caller: leadSession });
    const { context, out, err } = aContext({ USER: 'lee' });

    const code = await runDecisionCommand(
      'approve',
      [releaseId, '--reason', 'change 42'],
      context,
      w.connect,
    );

    expect(code).toBe(0);
    expect(err).toEqual([]);
    expect(w.identity.calls).toBe(1);
    expect(w.approvals.records.get(approvalId)).toMatchObject({
      status: 'approved',
      decidedBy: 'U0LEE',
      decidedVia: 'cli',
      principalArn: leadSession,
    });
    expect(w.callbacks.sent).toEqual([
      {
        succeed: 'token-1',
        output: expect.objectContaining({ approvedBy: 'U0LEE', via: 'cli' }),
      },
    ]);
    const [step] = w.ledger.steps;
    expect(step?.reason).toMatch(/^Approved by lee \(U0LEE\) via cli at .*: change 42$/);
    expect(step?.identity).toEqual({
      source: 'aws-sts',
      actor: 'lee',
      principalArn: leadSession,
      approver: 'U0LEE',
    });
    expect(out).toEqual([
      `Approved ${releaseId} (before-shift) as lee: change 42`,
      `Recorded with AWS principal ${leadSession}, deciding as approver U0LEE`,
    ]);
  });

  it('refuses a principal mapped to someone the approval no longer lists', async () => {
    const w = world({
      approval: { ...mapped, approvers: ['U0LEE'], approverGroups: ['S0OPS'] },
      caller: `arn:aws:iam::${account}:user/dana`,
    });
    const { context, err } = aContext({ USER: 'dana' });

    const code = await runDecisionCommand('approve', [releaseId], context, w.connect);

    expect(code).toBe(8);
    expect(err[0]).toContain(
      'maps to U0DANA, who is not among its approvers (approver groups are checked only with SLACK_BOT_TOKEN set)',
    );
  });

  it('reads approvers from --registry-table, else GREENLIGHT_REGISTRY_TABLE', async () => {
    const w = world({ approval: mapped, caller: leadSession });
    const { context } = aContext({
      USER: 'lee',
      GREENLIGHT_REGISTRY_TABLE: 'greenlight-prod-registry',
    });

    await runDecisionCommand('approve', [releaseId], context, w.connect);

    expect(w.connected).toEqual([
      expect.objectContaining({ registryTable: 'greenlight-prod-registry' }),
    ]);
  });
});

describe('greenlight approve when the service maps no principals', () => {
  it('decides, says plainly that IAM is the gate, and records the principal anyway', async () => {
    const w = world({ caller: strangerArn });
    const { context, out, err } = aContext({ USER: 'dana' });

    const code = await runDecisionCommand(
      'approve',
      [releaseId, '--actor', 'U0DEMOLEAD'],
      context,
      w.connect,
    );

    expect(code).toBe(0);
    expect(err).toEqual([
      `greenlight approve: IAM is the gate: checkout maps no AWS principal to its approvers (approval.principals), so whoever IAM lets write the ledger and answer the workflow may decide; you are ${strangerArn}.`,
    ]);
    expect(w.approvals.records.get(approvalId)).toMatchObject({
      decidedBy: 'U0DEMOLEAD',
      principalArn: strangerArn,
    });
    expect(w.ledger.steps[0]?.identity).toEqual({
      source: 'aws-sts',
      actor: 'U0DEMOLEAD',
      principalArn: strangerArn,
    });
    expect(out[1]).toBe(`Recorded with AWS principal ${strangerArn}`);
  });

  it('decides nothing when STS cannot say who the caller is', async () => {
    const w = world({
      caller: Object.assign(new Error('no credentials'), { name: 'CredentialsProviderError' }),
    });
    const { context, err } = aContext({ USER: 'dana' });

    const code = await runDecisionCommand('approve', [releaseId], context, w.connect);

    expect(code).toBe(1);
    expect(err[0]).toBe(
      'greenlight approve: cannot tell who you are (STS GetCallerIdentity failed: CredentialsProviderError: no credentials); nothing was sent.',
    );
    expect(w.approvals.records.get(approvalId)?.status).toBe('pending');
    expect(w.callbacks.sent).toEqual([]);
  });

  it('puts the gate and the principal in --json output', async () => {
    const w = world({ caller: strangerArn });
    const { context, out } = aContext({ USER: 'dana' });

    await runDecisionCommand('approve', [releaseId, '--json'], context, w.connect);

    expect(JSON.parse(out[0] ?? '{}')).toMatchObject({
      type: 'decision',
      decided: true,
      gate: 'iam',
      approval: { principalArn: strangerArn, decidedBy: 'dana' },
    });
  });
});

import type { CommandContext } from '../../../src/cli/options.ts';
import type { ReleaseLedger } from '../../../src/core/ports.ts';
import type { ReleaseRecord, StepRecord } from '../../../src/core/records.ts';

export function aStep(overrides: Partial<StepRecord> & Pick<StepRecord, 'key' | 'at'>): StepRecord {
  return {
    step: overrides.key.replace(/#.*$/, ''),
    outcome: 'succeeded',
    reason: 'done',
    phase: 'Provisioning',
    ...overrides,
  };
}

/** What the ledger holds at one poll: `release` undefined means not registered yet. */
export interface LedgerFrame {
  release?: ReleaseRecord;
  steps?: StepRecord[];
  /** Rejections by event id, as the workflow records an event it refused. */
  rejections?: Record<string, StepRecord>;
}

/**
 * A read-only in-memory ledger that moves to the next frame on every getRelease, the way the
 * workflow moves a release on between two polls. The last frame repeats.
 */
export class ScriptedLedger implements ReleaseLedger {
  readonly #frames: LedgerFrame[];
  #index = -1;
  readonly stepReads: string[] = [];

  constructor(frames: LedgerFrame[]) {
    this.#frames = frames;
  }

  async getRelease(releaseId: string): Promise<ReleaseRecord | undefined> {
    this.#index = Math.min(this.#index + 1, this.#frames.length - 1);
    const release = this.#frame().release;
    return release?.releaseId === releaseId ? release : undefined;
  }

  async listSteps(releaseId: string): Promise<StepRecord[]> {
    this.stepReads.push(releaseId);
    return [...(this.#frame().steps ?? [])];
  }

  async listReleases(): Promise<ReleaseRecord[]> {
    throw new Error('not used by --wait');
  }

  #frame(): LedgerFrame {
    return this.#frames[Math.max(this.#index, 0)] ?? {};
  }

  createRelease(): never {
    throw new Error('the CLI never writes the ledger');
  }
  updateRelease(): never {
    throw new Error('the CLI never writes the ledger');
  }
  recordStep(): never {
    throw new Error('the CLI never writes the ledger');
  }
  recordRejection(): never {
    throw new Error('the CLI never writes the ledger');
  }
  claimIdleTeardown(): never {
    throw new Error('the CLI never writes the ledger');
  }

  async getRejection(eventId: string): Promise<StepRecord | undefined> {
    return this.#frame().rejections?.[eventId];
  }
}

/** A ledger holding fixed releases (newest first) and their steps. */
export class StoredLedger implements ReleaseLedger {
  readonly #releases: ReleaseRecord[];
  readonly #steps: Record<string, StepRecord[]>;
  readonly listed: { service: string; limit: number }[] = [];

  constructor(releases: ReleaseRecord[], steps: Record<string, StepRecord[]> = {}) {
    this.#releases = releases;
    this.#steps = steps;
  }

  async getRelease(releaseId: string): Promise<ReleaseRecord | undefined> {
    return this.#releases.find((release) => release.releaseId === releaseId);
  }

  async listSteps(releaseId: string): Promise<StepRecord[]> {
    return [...(this.#steps[releaseId] ?? [])];
  }

  async listReleases(service: string, limit: number): Promise<ReleaseRecord[]> {
    this.listed.push({ service, limit });
    return this.#releases.filter((release) => release.service === service).slice(0, limit);
  }

  createRelease(): never {
    throw new Error('the CLI never writes the ledger');
  }
  updateRelease(): never {
    throw new Error('the CLI never writes the ledger');
  }
  recordStep(): never {
    throw new Error('the CLI never writes the ledger');
  }
  recordRejection(): never {
    throw new Error('the CLI never writes the ledger');
  }
  claimIdleTeardown(): never {
    throw new Error('the CLI never writes the ledger');
  }

  async getRejection(): Promise<StepRecord | undefined> {
    return undefined;
  }
}

/** A command context whose clock only moves when the command sleeps. */
export function aContext(env: CommandContext['env'] = {}) {
  const state = { time: Date.parse('2026-11-21T10:00:00Z'), sleeps: [] as number[] };
  const out: string[] = [];
  const err: string[] = [];
  const context: CommandContext = {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    env,
    now: () => state.time,
    sleep: async (ms) => {
      state.sleeps.push(ms);
      state.time += ms;
    },
    isTty: false,
  };
  return { context, out, err, sleeps: state.sleeps };
}

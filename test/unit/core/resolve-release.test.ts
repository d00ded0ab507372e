import { describe, expect, it } from 'vitest';
import { InvalidReleaseEvent } from '../../../src/core/errors.ts';
import { OperatorEventSource, ReleaseRequestedV1 } from '../../../src/core/release-event.ts';
import { deriveReleaseId } from '../../../src/core/release-id.ts';
import { issuesFromZod, resolveRelease } from '../../../src/core/resolve-release.ts';
import * as z from '../../../src/core/zod.ts';
import { aRegistry, aReleaseEvent, aService, aTime } from '../../support/builders.ts';

const registry = [aService(), aService({ name: 'payments' })];
const now = '2026-11-21T10:00:05.123Z';

function issuesOf(event: unknown): InvalidReleaseEvent['issues'] {
  try {
    resolveRelease(event, registry, now);
  } catch (error) {
    if (error instanceof InvalidReleaseEvent) return error.issues;
    throw error;
  }
  throw new Error('expected InvalidReleaseEvent');
}

describe('resolveRelease', () => {
  it('returns the release spec of a valid event', () => {
    expect(resolveRelease(aReleaseEvent(), registry, now)).toEqual({
      releaseId: deriveReleaseId('checkout', '1.4.2', 1),
      service: 'checkout',
      version: '1.4.2',
      attempt: 1,
      artifact: { s3: { bucket: 'greenlight-artifacts', key: 'checkout/1.4.2.zip' } },
      strategy: 'canary',
      plan: [
        { index: 0, percent: 10, bakeSeconds: 60 },
        { index: 1, percent: 100, bakeSeconds: 0 },
      ],
      commit: '3f9c2a1e8b7d4c6f5a0e9d8c7b6a5f4e3d2c1b0a',
      actor: 'dana@example.com',
      ci: {
        provider: 'github-actions',
        runUrl: 'https://github.com/acme/checkout/actions/runs/42',
      },
      requestedAt: aTime,
      lockPolicy: 'queue',
    });
  });

  it('carries the service lock policy, and allowOlder only when the event sets it', () => {
    const supersede = aService({ lockPolicy: 'supersede' });
    const spec = resolveRelease(aReleaseEvent({ allowOlder: true }), [supersede], now);
    expect(spec).toMatchObject({ lockPolicy: 'supersede', allowOlder: true });
    expect(resolveRelease(aReleaseEvent({ allowOlder: false }), registry, now)).not.toHaveProperty(
      'allowOlder',
    );
  });

  it('carries rollbackOf from greenlight rollback, and refuses it from any other source', () => {
    const rollbackOf = deriveReleaseId('checkout', '2.0.0', 1);
    const fromOperator = aReleaseEvent({ rollbackOf }, { source: OperatorEventSource });
    expect(resolveRelease(fromOperator, registry, now)).toMatchObject({ rollbackOf });

    expect(issuesOf(aReleaseEvent({ rollbackOf }, { source: 'greenlight.cli' }))).toEqual([
      {
        path: 'detail.rollbackOf',
        message: `is set by "greenlight rollback" alone (source "greenlight.operator"), not by "greenlight.cli"; to go back to an earlier build from CI, release it with "allowOlder": true`,
      },
    ]);
  });

  it('uses the strategy the event names and plans its weights', () => {
    const spec = resolveRelease(aReleaseEvent({ strategy: 'all-at-once' }), registry, now);

    expect(spec.strategy).toBe('all-at-once');
    expect(spec.plan).toEqual([{ index: 0, percent: 100, bakeSeconds: 0 }]);
  });

  it('carries the approval stages and timeout of the strategy, else of the service', () => {
    const slack = { type: 'slack' as const, channel: 'C0RELEASES', approvers: ['U0DANA'] };
    const gated = aService({
      approval: { ...slack, stages: ['before-shift', 'before-finalize'], timeoutSeconds: 600 },
      strategies: {
        canary: { type: 'canary', percent: 10, bakeSeconds: 60, approval: { type: 'none' } },
        'all-at-once': { type: 'all-at-once' },
      },
    });

    const canary = resolveRelease(aReleaseEvent(), [gated], now);
    const allAtOnce = resolveRelease(aReleaseEvent({ strategy: 'all-at-once' }), [gated], now);

    expect(canary.approval).toBeUndefined();
    expect(allAtOnce.approval).toEqual({
      beforeShift: true,
      beforeFinalize: true,
      timeoutSeconds: 600,
    });
  });

  it('derives the id from the attempt the event carries', () => {
    expect(resolveRelease(aReleaseEvent({ attempt: 2 }), registry, now).releaseId).toBe(
      deriveReleaseId('checkout', '1.4.2', 2),
    );
  });

  it('leaves optional fields out rather than undefined when the event has none', () => {
    const spec = resolveRelease(
      aReleaseEvent({ commit: undefined, actor: undefined, ci: undefined }),
      registry,
      now,
    );

    expect(Object.keys(spec)).not.toContain('commit');
    expect(Object.keys(spec)).not.toContain('actor');
    expect(Object.keys(spec)).not.toContain('ci');
  });

  it('uses the registration time when the envelope time is missing or not ISO', () => {
    const { time: _omitted, ...withoutTime } = aReleaseEvent();

    expect(resolveRelease(withoutTime, registry, now).requestedAt).toBe(now);
    expect(
      resolveRelease(aReleaseEvent({}, { time: 'yesterday' }), registry, now).requestedAt,
    ).toBe(now);
  });

  it('rejects an unregistered service, saying how to register it', () => {
    expect(issuesOf(aReleaseEvent({ service: 'search' }))).toEqual([
      {
        path: 'detail.service',
        message:
          'service "search" is not registered in this stage; register it in greenlight.config.ts and apply it (greenlight config apply)',
      },
    ]);
  });

  it('rejects a strategy the service does not define, listing its strategies', () => {
    expect(issuesOf(aReleaseEvent({ strategy: 'linear' }))).toEqual([
      {
        path: 'detail.strategy',
        message:
          'strategy "linear" is not defined for service "checkout"; its strategies are: canary, all-at-once',
      },
    ]);
  });

  it('reports every field problem at once with detail paths', () => {
    expect(
      issuesOf(
        aReleaseEvent({
          schemaVersion: 2,
          version: undefined,
          commit: 'not-a-sha',
          ci: { provider: 'github-actions', runUrl: 'ftp://ci.example.com/1' },
          strategy: 'linear',
          colour: 'green',
        }),
      ),
    ).toEqual([
      { path: 'detail.schemaVersion', message: 'must be 1' },
      { path: 'detail.version', message: 'is required (expected string)' },
      { path: 'detail.commit', message: 'must be a hex commit id' },
      { path: 'detail.ci.runUrl', message: 'must be a valid http or https URL' },
      { path: 'detail.colour', message: 'is not a known field; remove it or fix its spelling' },
      {
        path: 'detail.strategy',
        message:
          'strategy "linear" is not defined for service "checkout"; its strategies are: canary, all-at-once',
      },
    ]);
  });

  it('reports the artifact field that is wrong rather than every shape it could have', () => {
    expect(
      issuesOf(aReleaseEvent({ artifact: { s3: { bucket: 'Bad_Bucket', key: 'a.zip' } } })),
    ).toEqual([
      {
        path: 'detail.artifact.s3.bucket',
        message: expect.stringMatching(/^must be a valid S3 bucket name: 3-63 lowercase/),
      },
    ]);
  });

  it('lists the artifact shapes when the artifact matches none of them', () => {
    expect(issuesOf(aReleaseEvent({ artifact: {} }))).toEqual([
      {
        path: 'detail.artifact',
        message:
          'matches none of the allowed shapes; fix one of: detail.artifact.s3 is required (expected object); or detail.artifact.imageUri is required (expected string)',
      },
    ]);
  });

  it('rejects an S3 artifact from a bucket the service does not list', () => {
    const event = aReleaseEvent({ artifact: { s3: { bucket: 'attacker-bucket', key: 'x.zip' } } });
    expect(issuesOf(event)).toEqual([
      {
        path: 'detail.artifact.s3.bucket',
        message:
          'bucket "attacker-bucket" is not an artifact source of "checkout"; allowed: greenlight-artifacts',
      },
    ]);
  });

  it('keeps a service sharing a bucket to its own key prefix', () => {
    const shared = aRegistry(
      aService({ artifacts: { s3Buckets: ['greenlight-artifacts'], s3KeyPrefix: 'checkout/' } }),
    );
    const from = (key: string) =>
      aReleaseEvent({ artifact: { s3: { bucket: 'greenlight-artifacts', key } } });

    expect(() => resolveRelease(from('payments/9.9.9.zip'), shared, now)).toThrow(
      'detail.artifact.s3.key: key "payments/9.9.9.zip" is outside "checkout/", the key prefix of "checkout"\'s artifacts (artifacts.s3KeyPrefix)',
    );
    expect(resolveRelease(from('checkout/1.4.0.zip'), shared, now).artifact).toEqual({
      s3: { bucket: 'greenlight-artifacts', key: 'checkout/1.4.0.zip' },
    });
  });

  it('accepts an image from a listed repository, by tag or digest', () => {
    const repository = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout';
    for (const imageUri of [`${repository}:1.4.2`, `${repository}@sha256:${'a'.repeat(64)}`]) {
      expect(
        resolveRelease(aReleaseEvent({ artifact: { imageUri } }), registry, now).artifact,
      ).toEqual({
        imageUri,
      });
    }
  });

  it('rejects an image from a repository the service does not list', () => {
    const event = aReleaseEvent({
      artifact: { imageUri: '999999999999.dkr.ecr.eu-west-1.amazonaws.com/evil:1' },
    });
    expect(issuesOf(event).map((issue) => issue.path)).toEqual(['detail.artifact.imageUri']);
  });

  it('rejects an event of another detail-type', () => {
    expect(issuesOf(aReleaseEvent({}, { 'detail-type': 'Release Approved' }))).toEqual([
      { path: 'detail-type', message: 'must be "Release Requested"' },
    ]);
  });

  it('reports a missing detail once', () => {
    const { detail: _omitted, ...withoutDetail } = aReleaseEvent();

    expect(issuesOf(withoutDetail)).toEqual([{ path: 'detail', message: 'is required' }]);
  });

  it('rejects input that is not an event at all', () => {
    expect(issuesOf('hello')).toEqual([{ path: '', message: 'expected object, received string' }]);
  });

  it('throws an error named InvalidReleaseEvent that Catch can match', () => {
    expect(() => resolveRelease(aReleaseEvent({ service: 'search' }), registry, now)).toThrow(
      expect.objectContaining({ name: 'InvalidReleaseEvent' }),
    );
  });
});

describe('resolveRelease, for a CI team', () => {
  const teamed = [
    aService({ ci: { team: 'payments' } }),
    aService({ name: 'search', ci: { team: 'search' } }),
    aService({ name: 'platform' }),
  ];
  const fromSource = (service: string, source: string) => aReleaseEvent({ service }, { source });
  const sourceIssues = (event: unknown) => {
    try {
      resolveRelease(event, teamed, now);
    } catch (error) {
      if (error instanceof InvalidReleaseEvent) return error.issues;
      throw error;
    }
    return [];
  };

  it('releases a team’s service from that team’s source', () => {
    expect(resolveRelease(fromSource('checkout', 'greenlight.ci.payments'), teamed, now)).toEqual(
      expect.objectContaining({ service: 'checkout' }),
    );
  });

  it('releases any service, teamed or not, from a source of no team', () => {
    for (const source of ['greenlight.cli', 'greenlight.operator', 'acme.ci']) {
      for (const service of ['checkout', 'platform']) {
        expect(sourceIssues(fromSource(service, source)), `${service} from ${source}`).toEqual([]);
      }
    }
  });

  it('rejects another team’s source, at source, naming both teams', () => {
    expect(sourceIssues(fromSource('checkout', 'greenlight.ci.search'))).toEqual([
      {
        path: 'source',
        message:
          'source "greenlight.ci.search" is team "search"\'s CI, and service "checkout" belongs to team "payments"; release it from that team\'s CI',
      },
    ]);
  });

  it('rejects a team’s source for a service of no team', () => {
    expect(sourceIssues(fromSource('platform', 'greenlight.ci.payments'))).toEqual([
      {
        path: 'source',
        message:
          'source "greenlight.ci.payments" is team "payments"\'s CI, and service "platform" belongs to no team; release it from a platform CI principal (ci.principals), or give it the team with ci.team in its registration',
      },
    ]);
  });

  it('refuses a malformed team source rather than reading it as no team’s', () => {
    for (const source of ['greenlight.ci.', 'greenlight.ci.payments.x', 'greenlight.ci.Payments']) {
      expect(
        sourceIssues(fromSource('checkout', source)).map((i) => i.path),
        source,
      ).toEqual(['source']);
    }
  });
});

describe('ReleaseRequestedV1, for text that would act on whoever reads it', () => {
  /** The issues the schema alone finds in a detail (no registry: artifact sources aside). */
  function schemaIssues(detail: Record<string, unknown>) {
    const result = ReleaseRequestedV1.safeParse(aReleaseEvent(detail).detail);
    return result.success ? [] : issuesFromZod(result.error, 'detail');
  }
  const repository = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout';

  it.each([
    [
      'an ESC sequence that clears the screen',
      '\u001b[2J\u001b[Hdana',
      'U+001B (a control character) at position 0',
    ],
    [
      'an OSC 8 hyperlink',
      'dana\u001b]8;;https://evil.example\u0007x',
      'U+001B (a control character) at position 4',
    ],
    [
      'a carriage return that overwrites the line',
      'dana\rroot',
      'U+000D (a control character) at position 4',
    ],
    ['a C1 control (CSI)', 'dana\u009b2J', 'U+009B (a control character) at position 4'],
    ['a bidi override', 'dana\u202eexe.txt', 'U+202E (a bidirectional control) at position 4'],
    ['a lone surrogate', 'dana\ud800', 'U+D800 (a lone surrogate) at position 4'],
  ])('refuses an actor with %s, naming the character', (_what, actor, found) => {
    expect(schemaIssues({ actor })).toEqual([
      {
        path: 'detail.actor',
        message: `must be printable text, but has ${found}: no control characters (C0, DEL, C1, ESC sequences), bidirectional controls, line separators or lone surrogates`,
      },
    ]);
  });

  it('refuses the same in ci.provider, ci.runUrl and the S3 key', () => {
    const paths = (detail: Record<string, unknown>) => schemaIssues(detail).map((i) => i.path);
    const ci = { provider: 'github\u001b[2J', runUrl: 'https://ci.example/run/\u202e1' };
    expect(paths({ ci })).toEqual(['detail.ci.provider', 'detail.ci.runUrl']);
    expect(
      paths({ artifact: { s3: { bucket: 'greenlight-artifacts', key: 'app/\u0007.zip' } } }),
    ).toEqual(['detail.artifact.s3.key']);
  });

  it('accepts printable text in any script', () => {
    expect(
      schemaIssues({
        actor: 'Zoë Ångström (山田) 🚀',
        ci: { provider: 'GitLab CI', runUrl: 'https://ci.example/r/é?x=1&y=2' },
        artifact: {
          s3: { bucket: 'greenlight-artifacts', key: 'checkout/版本/1.4.2 (final).zip' },
        },
      }),
    ).toEqual([]);
  });

  it('takes an S3 key of up to 1,024 bytes of UTF-8, counting bytes rather than characters', () => {
    const s3 = (key: string) => ({ artifact: { s3: { bucket: 'greenlight-artifacts', key } } });

    expect(schemaIssues(s3('k'.repeat(1024)))).toEqual([]);
    expect(schemaIssues(s3('€'.repeat(341)))).toEqual([]);
    expect(schemaIssues(s3('€'.repeat(342)))).toEqual([
      {
        path: 'detail.artifact.s3.key',
        message:
          "must be at most 1,024 bytes as UTF-8 (S3's limit for a key); this one is 1026 bytes",
      },
    ]);
  });

  it('refuses bucket names S3 would refuse', () => {
    for (const bucket of ['my..bucket', '192.168.5.4', 'xn--bucket', 'sthree-x', 'data-s3alias']) {
      expect(
        schemaIssues({ artifact: { s3: { bucket, key: 'a.zip' } } }).map((i) => i.path),
        bucket,
      ).toEqual(['detail.artifact.s3.bucket']);
    }
    expect(schemaIssues({ artifact: { s3: { bucket: 'my.bucket-1', key: 'a.zip' } } })).toEqual([]);
  });

  it('takes an image name of up to 255 characters before a digest, as ECS does', () => {
    const padded = (length: number) =>
      `${repository}/${'a'.repeat(length - repository.length - 5)}:1.0`;
    const image = (imageUri: string) => ({ artifact: { imageUri } });

    expect(padded(255)).toHaveLength(255);
    expect(schemaIssues(image(padded(255)))).toEqual([]);
    expect(schemaIssues(image(`${padded(255).slice(0, -4)}@sha256:${'a'.repeat(64)}`))).toEqual([]);
    expect(schemaIssues(image(padded(256)))).toEqual([
      {
        path: 'detail.artifact.imageUri',
        message:
          "must have at most 255 characters before any @digest (ECS's limit for an image); this one has 256",
      },
    ]);
  });

  it('refuses image repositories ECR would refuse', () => {
    for (const imageUri of [
      `${repository}-/app:1`,
      `${repository}//app:1`,
      `${repository}/App:1`,
      `${repository}:-tag`,
      `${repository}:${'t'.repeat(129)}`,
    ]) {
      expect(
        schemaIssues({ artifact: { imageUri } }).map((i) => i.path),
        imageUri,
      ).toEqual(['detail.artifact.imageUri']);
    }
  });

  it('answers a 256 KB image URI at once, without reading it all', () => {
    const imageUri = `${repository}/${'a'.repeat(256 * 1024)}:1`;
    const started = performance.now();
    expect(schemaIssues({ artifact: { imageUri } })).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('issuesFromZod', () => {
  it('prefixes paths and writes array indexes in brackets', () => {
    const result = z.object({ steps: z.array(z.object({ percent: z.number() })) }).safeParse({
      steps: [{ percent: 'ten' }],
    });

    expect(result.success).toBe(false);
    expect(issuesFromZod(result.error as z.core.$ZodError, 'detail')).toEqual([
      { path: 'detail.steps[0].percent', message: 'expected number, received string' },
    ]);
  });

  it('says how far out of range a value is', () => {
    const result = z
      .object({ attempt: z.int().check(z.gte(1), z.lte(999)) })
      .safeParse({ attempt: 1000 });

    expect(issuesFromZod(result.error as z.core.$ZodError, '')).toEqual([
      { path: 'attempt', message: 'must be at most 999' },
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import type { ApprovalRecord, StepRecord } from '../../../src/core/records.ts';
import {
  alreadyDecidedText,
  approvalDecidedMessage,
  approvalRequestMessage,
  approvalView,
  escapeText,
  summarizeTests,
} from '../../../src/slack/messages.ts';
import { aReleaseSpec } from '../../support/builders.ts';

const token = 'AAAAtask-token-secret-ZZZZ';

function anApproval(overrides: Partial<ApprovalRecord> = {}): ApprovalRecord {
  return {
    approvalId: 'checkout-1-4-2-a1-before-shift',
    releaseId: 'checkout-1-4-2-a1',
    service: 'checkout',
    version: '1.4.2',
    stage: 'before-shift',
    taskToken: token,
    status: 'pending',
    requestedAt: '2026-11-21T10:00:00.000Z',
    expiresAt: '2026-11-22T10:00:00.000Z',
    slack: { channel: 'C0RELEASES', ts: '1.000001' },
    ...overrides,
  };
}

const testStep: StepRecord = {
  key: 'test',
  step: 'test',
  at: '2026-11-21T09:59:00.000Z',
  outcome: 'succeeded',
  reason: 'Green passed 2 tests',
  phase: 'Testing',
  evidence: {
    tests: [
      { name: 'health', passed: true, detail: 'ok', durationMs: 12 },
      { name: 'checkout', passed: true, detail: 'ok', durationMs: 80 },
    ],
  },
};

describe('approvalRequestMessage', () => {
  const message = approvalRequestMessage(approvalView(anApproval(), aReleaseSpec(), testStep));
  const text = JSON.stringify(message);

  it('shows service, version, commit, actor, CI run link and test evidence', () => {
    expect(message.text).toBe('Approval needed: checkout 1.4.2 (before any traffic moves)');
    expect(text).toContain('*Service*\\ncheckout');
    expect(text).toContain('*Version*\\n1.4.2');
    expect(text).toContain('`3f9c2a1e8b7d`');
    expect(text).toContain('dana@example.com');
    expect(text).toContain('<https://github.com/acme/checkout/actions/runs/42|github-actions>');
    expect(text).toContain('2 of 2 tests passed: health (12 ms), checkout (80 ms)');
  });

  it('has Approve and Reject buttons that carry the approval id and nothing else', () => {
    const actions = message.blocks.find((block) => block.type === 'actions');
    expect(actions).toEqual({
      type: 'actions',
      block_id: 'approval',
      elements: [
        expect.objectContaining({ action_id: 'approve', value: 'checkout-1-4-2-a1-before-shift' }),
        expect.objectContaining({ action_id: 'reject', value: 'checkout-1-4-2-a1-before-shift' }),
      ],
    });
  });

  it('never carries the task token', () => {
    expect(text).not.toContain(token);
  });

  it('escapes release fields so that an event cannot mention @channel or forge links', () => {
    const hostile = approvalView(
      anApproval({ version: '1.0.0' }),
      aReleaseSpec({
        actor: '<!channel> <https://evil.example|docs>',
        ci: { provider: 'x|y', runUrl: 'javascript:alert(1)' },
      }),
      undefined,
    );
    const shown = JSON.stringify(approvalRequestMessage(hostile));
    expect(shown).toContain('&lt;!channel&gt; &lt;https://evil.example|docs&gt;');
    expect(shown).not.toContain('<!channel>');
    expect(shown).not.toContain('<javascript:');
    expect(shown).toContain('No test evidence recorded.');
  });
});

describe('approvalDecidedMessage', () => {
  it('replaces the buttons with who decided and when', () => {
    const message = approvalDecidedMessage(
      approvalView(
        anApproval({
          status: 'approved',
          decidedBy: 'U0APPROVER',
          decidedAt: '2026-11-21T10:05:00.000Z',
          decidedVia: 'slack',
        }),
        aReleaseSpec(),
        testStep,
      ),
    );
    expect(message.blocks.some((block) => block.type === 'actions')).toBe(false);
    expect(JSON.stringify(message)).toContain(
      ':white_check_mark: *Approved* by <@U0APPROVER> at <!date^1795255500^{date_short_pretty} {time}|2026-11-21T10:05:00.000Z>',
    );
    expect(message.text).toBe('checkout 1.4.2: approved by U0APPROVER');
  });

  it('labels where the decider came from: a signed Slack click, or an AWS principal from the CLI', () => {
    const decided = (overrides: Partial<ApprovalRecord>) =>
      approvalDecidedMessage(
        approvalView(
          anApproval({ status: 'approved', decidedAt: '2026-11-21T10:05:00.000Z', ...overrides }),
          aReleaseSpec(),
          testStep,
        ),
      ).blocks.map((block) => JSON.stringify(block));
    const clicked = decided({ decidedBy: 'U0APPROVER', decidedVia: 'slack' });
    const typed = decided({
      decidedBy: 'U0DEMOLEAD',
      decidedVia: 'cli',
      principalArn: 'arn:aws:iam::123456789012:user/mallory',
    });

    expect(clicked.at(-1)).toContain(
      'Decided in Slack: the Slack user, from a click whose request signature was verified.',
    );
    expect(typed.at(-1)).toContain(
      'Decided from the command line as AWS principal arn:aws:iam::123456789012:user/mallory (STS GetCallerIdentity); the name is what they typed.',
    );
  });

  it('escapes a principal ARN like any other text from outside', () => {
    const shown = JSON.stringify(
      approvalDecidedMessage(
        approvalView(
          anApproval({
            status: 'approved',
            decidedBy: 'dana',
            decidedVia: 'cli',
            principalArn: 'arn:aws:sts::123456789012:assumed-role/R/<!channel>&@here',
          }),
          aReleaseSpec(),
          testStep,
        ),
      ),
    );

    expect(shown).toContain('assumed-role/R/&lt;!channel&gt;&amp;@\u2060here');
    expect(shown).not.toContain('<!channel>');
  });

  it('says a timed-out release was rejected before any traffic moved', () => {
    const message = approvalDecidedMessage(
      approvalView(anApproval({ status: 'timed-out' }), aReleaseSpec(), testStep),
    );
    expect(JSON.stringify(message)).toContain('the release was rejected before any traffic moved');
  });
});

describe('alreadyDecidedText', () => {
  it('names who decided, when, and that nothing changed', () => {
    const { taskToken: _t, ...approval } = anApproval({
      status: 'rejected',
      decidedBy: 'U0OTHER',
      decidedAt: '2026-11-21T10:05:00.000Z',
      decidedVia: 'slack',
    });
    expect(alreadyDecidedText(approval)).toBe(
      'Already rejected by <@U0OTHER> at <!date^1795255500^{date_short_pretty} {time}|2026-11-21T10:05:00.000Z>; nothing changed.',
    );
  });

  it('names a CLI operator as text with the channel used', () => {
    const { taskToken: _t, ...approval } = anApproval({
      status: 'approved',
      decidedBy: 'ops-dana',
      decidedVia: 'cli',
    });
    expect(alreadyDecidedText(approval)).toBe(
      'Already approved by ops-dana (via cli); nothing changed.',
    );
  });
});

describe('summarizeTests', () => {
  it('names failed tests with their detail', () => {
    expect(
      summarizeTests({
        ...testStep,
        evidence: {
          tests: [{ name: 'health', passed: false, detail: 'status 500', durationMs: 3 }],
        },
      }),
    ).toBe('0 of 1 test passed: health FAILED (status 500)');
  });

  it('escapes like Slack expects', () => {
    expect(escapeText('a & <b>')).toBe('a &amp; &lt;b&gt;');
  });
});

describe('escapeText, against mentions and links from outside', () => {
  it.each([
    ['<!channel>', '&lt;!channel&gt;'],
    ['<!here|here>', '&lt;!here|here&gt;'],
    ['<@U0ADMIN>', '&lt;@U0ADMIN&gt;'],
    ['<!subteam^S0OPS>', '&lt;!subteam^S0OPS&gt;'],
    ['<#C0GENERAL>', '&lt;#C0GENERAL&gt;'],
    ['<https://evil.example|docs>', '&lt;https://evil.example|docs&gt;'],
    ['&lt;!channel&gt;', '&amp;lt;!channel&amp;gt;'],
  ])('shows %s as text', (text, escaped) => {
    expect(escapeText(text)).toBe(escaped);
  });

  it('breaks bare broadcast mentions with an invisible word joiner', () => {
    expect(escapeText('ping @channel, @Here and @everyone; mail dana@example.com')).toBe(
      'ping @\u2060channel, @\u2060Here and @\u2060everyone; mail dana@example.com',
    );
  });
});

describe('messages built from hostile fields', () => {
  const hostile = approvalView(
    anApproval({
      status: 'rejected',
      decidedBy: '<!channel> @here',
      decidedVia: 'cli',
      reason: '<@U0ADMIN> & @everyone',
    }),
    aReleaseSpec({
      actor: '@channel <!here>',
      ci: { provider: 'ci', runUrl: 'https://ci.example/run?a=1&b=<2>' },
    }),
    undefined,
  );

  it('escapes the notification text too, which Slack formats like the blocks', () => {
    const { text } = approvalDecidedMessage(hostile);
    expect(text).toBe('checkout 1.4.2: rejected by &lt;!channel&gt; @\u2060here');
  });

  it('marks every mrkdwn text object verbatim, so Slack parses nothing it was not told to', () => {
    const shown = JSON.stringify(approvalDecidedMessage(hostile));
    const texts = [...shown.matchAll(/"type":"mrkdwn","text":"(?:[^"\\]|\\.)*","verbatim":(\w+)/g)];
    expect(texts.length).toBeGreaterThan(5);
    expect(texts.every((match) => match[1] === 'true')).toBe(true);
    expect(shown).not.toMatch(/<!(?:channel|here|everyone)|<@U0ADMIN>/);
    expect(shown).toContain('&lt;@U0ADMIN&gt; &amp; @\u2060everyone');
  });

  it('links only a plain URL, with its ampersands escaped', () => {
    const linked = approvalView(
      anApproval(),
      aReleaseSpec({ ci: { provider: 'ci', runUrl: 'https://ci.example/run?a=1&b=2' } }),
      undefined,
    );
    expect(JSON.stringify(approvalRequestMessage(linked))).toContain(
      '<https://ci.example/run?a=1&amp;b=2|ci>',
    );
    expect(JSON.stringify(approvalRequestMessage(hostile))).toContain(
      'https://ci.example/run?a=1&amp;b=&lt;2&gt;',
    );
  });
});

import { describe, expect, it } from 'vitest';
import { parseInteraction } from '../../../src/slack/payload.ts';

function form(payload: unknown): string {
  return new URLSearchParams({
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  }).toString();
}

function aClick(overrides: Record<string, unknown> = {}) {
  return {
    type: 'block_actions',
    user: { id: 'U0APPROVER', username: 'dana', name: 'dana', team_id: 'T1' },
    channel: { id: 'C0RELEASES', name: 'releases' },
    container: { type: 'message', message_ts: '1700000000.000100', channel_id: 'C0RELEASES' },
    actions: [
      {
        action_id: 'approve',
        block_id: 'approval',
        value: 'checkout-1-4-2-a1-before-shift',
        type: 'button',
      },
    ],
    someFieldSlackAddsLater: { x: 1 },
    ...overrides,
  };
}

describe('parseInteraction', () => {
  it('reads a click on Approve: action, approval id, who, where', () => {
    expect(parseInteraction(form(aClick()))).toEqual({
      kind: 'click',
      click: {
        action: 'approve',
        approvalId: 'checkout-1-4-2-a1-before-shift',
        user: { id: 'U0APPROVER', name: 'dana' },
        channel: 'C0RELEASES',
        messageTs: '1700000000.000100',
      },
    });
  });

  it('reads a click on Reject', () => {
    const parsed = parseInteraction(
      form(aClick({ actions: [{ action_id: 'reject', value: 'r-1-before-shift' }] })),
    );
    expect(parsed.kind === 'click' && parsed.click.action).toBe('reject');
  });

  it('ignores other interaction types and other buttons', () => {
    expect(parseInteraction(form({ type: 'view_submission' }))).toEqual({
      kind: 'ignored',
      type: 'view_submission',
    });
    expect(
      parseInteraction(form(aClick({ actions: [{ action_id: 'open-dashboard', value: 'x' }] }))),
    ).toEqual({ kind: 'ignored', type: 'block_actions:open-dashboard' });
  });

  it('calls a body without payload, with bad JSON, or without an approval id invalid', () => {
    expect(parseInteraction('text=hello').kind).toBe('invalid');
    expect(parseInteraction(form('{not json')).kind).toBe('invalid');
    expect(parseInteraction(form(aClick({ user: {} }))).kind).toBe('invalid');
    expect(
      parseInteraction(form(aClick({ actions: [{ action_id: 'approve', value: 'a b<c>' }] }))),
    ).toEqual({ kind: 'invalid', reason: 'the clicked button carries no approval id' });
  });
});

import * as z from '../core/zod.ts';

/** The buttons of an approval message; their `value` is the approval id and nothing else. */
export const ApprovalAction = {
  Approve: 'approve',
  Reject: 'reject',
} as const;
export type ApprovalAction = (typeof ApprovalAction)[keyof typeof ApprovalAction];

/** A click on Approve or Reject, as far as greenlight cares. */
export interface ApprovalClick {
  action: ApprovalAction;
  approvalId: string;
  user: { id: string; name?: string };
  /** Where the clicked message is, when Slack says so. */
  channel?: string;
  messageTs?: string;
}

export type ParsedInteraction =
  | { kind: 'click'; click: ApprovalClick }
  /** A well-formed interaction greenlight has no use for (another action, another type). */
  | { kind: 'ignored'; type: string }
  | { kind: 'invalid'; reason: string };

// Loose objects: Slack adds fields over time and a new one must not break approvals.
const BlockActions = z.lazy(() =>
  z.looseObject({
    type: z.literal('block_actions'),
    user: z.looseObject({
      id: z.string().check(z.minLength(1)),
      username: z.optional(z.string()),
      name: z.optional(z.string()),
    }),
    channel: z.optional(z.looseObject({ id: z.string().check(z.minLength(1)) })),
    container: z.optional(z.looseObject({ message_ts: z.optional(z.string()) })),
    actions: z
      .array(
        z.looseObject({
          action_id: z.string(),
          value: z.optional(z.string()),
        }),
      )
      .check(z.minLength(1)),
  }),
);

const approvalIdPattern = /^[A-Za-z0-9_-]{1,120}$/;

/**
 * Reads an interactivity request body: form-encoded with one field, `payload`, holding JSON.
 * Call it only after the signature is verified: before that the body is anyone's.
 */
export function parseInteraction(rawBody: string): ParsedInteraction {
  const payloadText = new URLSearchParams(rawBody).get('payload');
  if (payloadText === null) return { kind: 'invalid', reason: 'no "payload" form field' };
  let payload: unknown;
  try {
    payload = JSON.parse(payloadText);
  } catch {
    return { kind: 'invalid', reason: '"payload" is not JSON' };
  }
  const type =
    typeof payload === 'object' && payload !== null && 'type' in payload
      ? String(payload.type)
      : '(none)';
  if (type !== 'block_actions') return { kind: 'ignored', type };
  const parsed = BlockActions.safeParse(payload);
  if (!parsed.success) {
    return {
      kind: 'invalid',
      reason: `block_actions payload: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ')}`,
    };
  }
  const { user, channel, container, actions } = parsed.data;
  // A message has one actions block; Slack sends the one action clicked.
  const clicked = actions[0];
  if (
    !clicked ||
    (clicked.action_id !== ApprovalAction.Approve && clicked.action_id !== ApprovalAction.Reject)
  ) {
    return { kind: 'ignored', type: `block_actions:${clicked?.action_id ?? '(none)'}` };
  }
  if (clicked.value === undefined || !approvalIdPattern.test(clicked.value)) {
    return { kind: 'invalid', reason: 'the clicked button carries no approval id' };
  }
  const name = user.username ?? user.name;
  return {
    kind: 'click',
    click: {
      action: clicked.action_id,
      approvalId: clicked.value,
      user: name === undefined ? { id: user.id } : { id: user.id, name },
      ...(channel ? { channel: channel.id } : {}),
      ...(container?.message_ts ? { messageTs: container.message_ts } : {}),
    },
  };
}

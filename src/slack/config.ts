import * as z from '../core/zod.ts';

/** What the Slack side reads from its environment, parsed once per process. */
export interface SlackConfig {
  /** Bot token (`xoxb-…`); an SST secret in the stack. */
  botToken: string;
  /** Where the Web API is; unset in AWS, the local Slack stand-in's URL locally. */
  slackApiUrl?: string;
}

export interface InteractionConfig extends SlackConfig {
  /** The app's signing secret; an SST secret in the stack. */
  signingSecret: string;
  ledgerTable: string;
  /** Where the approvers of each service are registered (src/aws/dynamo-registry.ts). */
  registryTable: string;
}

const SlackEnvironment = z.object({
  SLACK_BOT_TOKEN: z.string().check(z.minLength(1)),
  SLACK_API_URL: z.optional(z.url({ protocol: /^https?$/ })),
});

const InteractionEnvironment = z.extend(SlackEnvironment, {
  SLACK_SIGNING_SECRET: z.string().check(z.minLength(1)),
  GREENLIGHT_LEDGER_TABLE: z.string().check(z.minLength(1)),
  GREENLIGHT_REGISTRY_TABLE: z.string().check(z.minLength(1)),
});

export function parseSlackConfig(env: Record<string, string | undefined>): SlackConfig {
  const vars = parseOrExplain(SlackEnvironment, env);
  return {
    botToken: vars.SLACK_BOT_TOKEN,
    ...(vars.SLACK_API_URL === undefined ? {} : { slackApiUrl: apiUrl(vars.SLACK_API_URL) }),
  };
}

export function parseInteractionConfig(env: Record<string, string | undefined>): InteractionConfig {
  const vars = parseOrExplain(InteractionEnvironment, env);
  return {
    botToken: vars.SLACK_BOT_TOKEN,
    ...(vars.SLACK_API_URL === undefined ? {} : { slackApiUrl: apiUrl(vars.SLACK_API_URL) }),
    signingSecret: vars.SLACK_SIGNING_SECRET,
    ledgerTable: vars.GREENLIGHT_LEDGER_TABLE,
    registryTable: vars.GREENLIGHT_REGISTRY_TABLE,
  };
}

function apiUrl(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

function parseOrExplain<T extends z.ZodMiniType>(
  schema: T,
  env: Record<string, string | undefined>,
): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  // Names only: the values are secrets.
  const names = parsed.error.issues.map((issue) => issue.path.join('.')).join(', ');
  throw new Error(
    `greenlight's Slack approvals are missing configuration in their environment: ${names}. The stack sets these from SST secrets; locally, src/local sets them.`,
  );
}

import type { ResolvedArtifact } from '../artifact-store.ts';

/**
 * Where a function's code comes from: S3 or an image, as `UpdateFunctionCode` names them, or
 * (seeding only) a module file the local cloud itself owns, such as the demo's migration runner.
 */
export type LambdaArtifactRef =
  | { s3: { bucket: string; key: string } }
  | { imageUri: string }
  | { localModule: string };

/** One invocation as Lambda's CloudWatch metrics see it (`Errors`, `Invocations`). */
export interface InvocationMetric {
  functionName: string;
  /** The alias the caller invoked through, when it was one. */
  alias?: string;
  /** The version that actually ran (`X-Amz-Executed-Version`). */
  version: string;
  error: boolean;
  at: Date;
  /** How long the handler ran (Lambda's Duration metric), by the simulator's clock. */
  durationMs?: number;
}

export type InvocationListener = (metric: InvocationMetric) => void;

/** Operations whose next response `failNextResponse` can lose. */
export const FaultableOperation = {
  PublishVersion: 'PublishVersion',
  UpdateAlias: 'UpdateAlias',
  UpdateFunctionCode: 'UpdateFunctionCode',
} as const;
export type FaultableOperation = (typeof FaultableOperation)[keyof typeof FaultableOperation];

export interface SeedFunctionInput {
  functionName: string;
  artifact: LambdaArtifactRef;
  alias: string;
  /** Provisioned concurrency on the seeded version 1, as a team keeps its live version warm. */
  provisionedConcurrency?: number;
  /** The function's `Timeout`, enforced on every invocation. @default 3 (Lambda's default) */
  timeoutSeconds?: number;
  /** The function's `Environment.Variables`, handed to a module's `createHandler(env)`. */
  environment?: Record<string, string>;
}

export type UpdateStatus = 'InProgress' | 'Successful';

export interface FunctionSnapshot {
  /** Published versions, oldest first. */
  versions: string[];
  /** The seeded alias (else the first one created). */
  alias?: { name: string; version: string; weights: Record<string, number> };
  aliases: Record<string, { version: string; weights: Record<string, number> }>;
  latest: { codeSha256: string; lastUpdateStatus: UpdateStatus };
  /** Versions actually created by PublishVersion (unchanged-code publishes not counted). */
  publishCount: number;
  /** Provisioned concurrency by qualifier (version or alias). */
  provisionedConcurrency: Record<string, number>;
}

export interface CodeRecord {
  version: string;
  artifact: ResolvedArtifact;
  source: LambdaArtifactRef;
  description: string;
  revisionId: string;
  lastModified: Date;
}

export interface LatestRecord extends CodeRecord {
  lastUpdateStatus: UpdateStatus;
  updateStartedAt?: Date;
}

export interface AliasRecord {
  name: string;
  functionVersion: string;
  description: string;
  weights: Record<string, number>;
  revisionId: string;
  /** Smooth weighted round-robin state: the running "current weight" per version. */
  rotation: Map<string, number>;
}

export interface ProvisionedConfig {
  requested: number;
  lastModified: Date;
}

export interface FunctionRecord {
  name: string;
  latest: LatestRecord;
  versions: Map<string, CodeRecord>;
  aliases: Map<string, AliasRecord>;
  seededAlias?: string;
  nextVersion: number;
  publishCount: number;
  /** Provisioned concurrency configs by qualifier; ready as soon as they are put. */
  provisioned: Map<string, ProvisionedConfig>;
  /** How long an invocation may run before Lambda stops it ("Task timed out"). */
  timeoutSeconds: number;
  environment: Record<string, string>;
}

/** Lambda's default function timeout, in seconds. */
export const defaultTimeoutSeconds = 3;

export const latestVersion = '$LATEST';

import { pathToFileURL } from 'node:url';
import type { AwsFault } from '../aws-protocol/fault.ts';
import { parseJsonObject, restJsonFault, restJsonResult } from '../aws-protocol/json.ts';
import type { LocalRequest, LocalResponse } from '../http.ts';
import { invalidRequestContent } from './faults.ts';
import {
  type AliasRecord,
  type CodeRecord,
  type FunctionRecord,
  latestVersion,
  type ProvisionedConfig,
} from './types.ts';

/**
 * Lambda's REST-JSON wire codec: which operation a request is (the SDK's HTTP bindings), what it
 * carries, and the documents Lambda answers with. No rules and no state here.
 */
export const apiPrefix = '/2015-03-31/functions/';
export const provisionedConcurrencyPrefix = '/2019-09-30/functions/';

export type Operation =
  | 'DeleteFunction'
  | 'ListAliases'
  | 'GetFunction'
  | 'GetFunctionConfiguration'
  | 'UpdateFunctionCode'
  | 'PublishVersion'
  | 'ListVersionsByFunction'
  | 'CreateAlias'
  | 'GetAlias'
  | 'UpdateAlias'
  | 'Invoke';

export interface Route {
  operation: Operation;
  functionName: string;
  alias?: string;
}

export interface FunctionTarget {
  name: string;
  qualifier?: string;
}

/** Builds a function's ARN, with a qualifier (version or alias) when given. */
export type ArnOf = (name: string, qualifier?: string) => string;

/** Maps `METHOD functions/{name}/...` to an operation, as the SDK's HTTP bindings lay them out. */
export function routeOf(method: string, segments: string[]): Route | undefined {
  const [functionName, resource, alias, ...rest] = segments;
  if (!functionName || rest.length > 0) return undefined;
  const key = `${method} ${resource ?? ''}${alias === undefined ? '' : '/*'}`;
  const operation = (
    {
      'GET ': 'GetFunction',
      'DELETE ': 'DeleteFunction',
      'GET aliases': 'ListAliases',
      'GET configuration': 'GetFunctionConfiguration',
      'PUT code': 'UpdateFunctionCode',
      'POST versions': 'PublishVersion',
      'GET versions': 'ListVersionsByFunction',
      'POST aliases': 'CreateAlias',
      'GET aliases/*': 'GetAlias',
      'PUT aliases/*': 'UpdateAlias',
      'POST invocations': 'Invoke',
    } as const satisfies Record<string, Operation>
  )[key];
  if (!operation) return undefined;
  return alias === undefined ? { operation, functionName } : { operation, functionName, alias };
}

/** The decoded path segments after `prefix`. */
export function pathSegments(url: URL, prefix: string): string[] {
  return url.pathname.slice(prefix.length).split('/').map(decodeURIComponent);
}

/** Accepts a name, `name:qualifier`, a partial ARN (`account:function:name`) or a full ARN. */
export function parseFunctionName(raw: string): FunctionTarget {
  const parts = raw.split(':');
  let rest = parts;
  if (parts[0] === 'arn') rest = parts.slice(6);
  else if (parts[1] === 'function') rest = parts.slice(2);
  const [name = raw, qualifier] = rest;
  return qualifier === undefined ? { name } : { name, qualifier };
}

export function parseBody(request: LocalRequest): Record<string, unknown> {
  return parseJsonObject(request, invalidRequestContent, 'Could not parse request body into json.');
}

/** An Invoke payload: any JSON value; an empty body is `{}`. */
export function parseEvent(request: LocalRequest): unknown {
  if (request.body.length === 0) return {};
  try {
    return JSON.parse(request.body.toString('utf8'));
  } catch {
    throw invalidRequestContent('Could not parse request body into json: Unexpected character.');
  }
}

export function headerOf(request: LocalRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function lambdaResult(status: number, body: unknown): LocalResponse {
  return restJsonResult(status, body);
}

/** Lambda's REST-JSON error body: `Type` is User below 500, Service from 500. */
export function lambdaError(fault: AwsFault): LocalResponse {
  const body =
    fault.status >= 500
      ? { Type: 'Service', Message: fault.message }
      : { Type: 'User', message: fault.message };
  return restJsonFault(fault, body);
}

/** Lambda's `LastModified` format: `2024-05-01T10:00:00.000+0000`. */
export function formatLastModified(at: Date): string {
  return at.toISOString().replace('Z', '+0000');
}

export function renderConfiguration(
  fn: FunctionRecord,
  record: CodeRecord,
  qualified: boolean,
  arn: ArnOf,
  accountId: string,
): Record<string, unknown> {
  const isImage = 'imageUri' in record.source;
  const latest = record.version === latestVersion;
  const configuration: Record<string, unknown> = {
    FunctionName: fn.name,
    FunctionArn: arn(fn.name, qualified || !latest ? record.version : undefined),
    Role: `arn:aws:iam::${accountId}:role/${fn.name}-role`,
    CodeSize: record.artifact.size,
    CodeSha256: record.artifact.sha256,
    Description: record.description,
    Timeout: fn.timeoutSeconds,
    MemorySize: 128,
    LastModified: formatLastModified(record.lastModified),
    Version: record.version,
    RevisionId: record.revisionId,
    State: 'Active',
    LastUpdateStatus: latest ? fn.latest.lastUpdateStatus : 'Successful',
    PackageType: isImage ? 'Image' : 'Zip',
    Architectures: ['x86_64'],
  };
  if (Object.keys(fn.environment).length > 0) {
    configuration.Environment = { Variables: { ...fn.environment } };
  }
  if (!isImage) {
    configuration.Runtime = 'nodejs24.x';
    configuration.Handler = 'index.handler';
  }
  return configuration;
}

/** GetFunction's `Code`: where the code can be fetched from. */
export function renderCode(record: CodeRecord): Record<string, unknown> {
  return 'imageUri' in record.source
    ? {
        RepositoryType: 'ECR',
        ImageUri: record.source.imageUri,
        ResolvedImageUri: record.source.imageUri,
      }
    : { RepositoryType: 'S3', Location: pathToFileURL(record.artifact.path).href };
}

export function renderAlias(
  fn: FunctionRecord,
  alias: AliasRecord,
  arn: ArnOf,
): Record<string, unknown> {
  const configuration: Record<string, unknown> = {
    AliasArn: arn(fn.name, alias.name),
    Name: alias.name,
    FunctionVersion: alias.functionVersion,
    Description: alias.description,
    RevisionId: alias.revisionId,
  };
  if (Object.keys(alias.weights).length > 0) {
    configuration.RoutingConfig = { AdditionalVersionWeights: { ...alias.weights } };
  }
  return configuration;
}

export function renderProvisioned(
  config: ProvisionedConfig,
  functionArn: string | undefined,
): Record<string, unknown> {
  return {
    ...(functionArn === undefined ? {} : { FunctionArn: functionArn }),
    RequestedProvisionedConcurrentExecutions: config.requested,
    AllocatedProvisionedConcurrentExecutions: config.requested,
    AvailableProvisionedConcurrentExecutions: config.requested,
    Status: 'READY',
    LastModified: formatLastModified(config.lastModified),
  };
}

export function failurePayload(
  errorType: string,
  errorMessage: string,
): { error: boolean; payload: string } {
  return { error: true, payload: JSON.stringify({ errorType, errorMessage, trace: [] }) };
}

/**
 * What Lambda answers when a handler outlives the function's Timeout: a function error whose
 * message says "Task timed out after N.NN seconds" (the Lambda guide, "Troubleshoot invocation
 * issues in Lambda", https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html).
 */
export function timeoutPayload(
  requestId: string,
  timeoutSeconds: number,
): { error: boolean; payload: string } {
  return {
    error: true,
    payload: JSON.stringify({
      errorType: 'Sandbox.Timedout',
      errorMessage: `RequestId: ${requestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`,
    }),
  };
}

import { awsJsonError, type LocalRequest, type LocalResponse } from '../http.ts';
import type { AwsFault, FaultOf } from './fault.ts';

export const awsJson10 = 'application/x-amz-json-1.0';
export const awsJson11 = 'application/x-amz-json-1.1';

/**
 * The JSON object a request carries (AWS JSON 1.0/1.1 and REST-JSON alike); an empty body is `{}`.
 * Anything else (bad JSON, a scalar, null) is the service's own fault, from `malformed`.
 */
export function parseJsonObject(request: LocalRequest, malformed: FaultOf, message: string) {
  if (request.body.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(request.body.toString('utf8'));
    if (parsed && typeof parsed === 'object') return parsed as Record<string, unknown>;
  } catch {
    // falls through to the same answer as a non-object body
  }
  throw malformed(message);
}

/** An AWS JSON 1.0/1.1 error: `{ __type, message }` with `x-amzn-errortype`. */
export function awsJsonFault(fault: AwsFault, contentType = awsJson10): LocalResponse {
  return awsJsonError(fault.status, fault.code, fault.message, contentType);
}

/**
 * An AWS JSON error of a query-compatible service (CloudWatch): the SDK reads the awsQuery
 * error code from `x-amzn-query-error` to pick the typed exception.
 */
export function queryCompatibleJsonFault(fault: AwsFault): LocalResponse {
  const response = awsJsonFault(fault);
  response.headers = { ...response.headers, 'x-amzn-query-error': `${fault.code};Sender` };
  return response;
}

/** A REST-JSON answer. */
export function restJsonResult(status: number, body: unknown): LocalResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/**
 * A REST-JSON error: the SDK reads the exception from `x-amzn-errortype`, the message from the
 * body. Services word the body differently (Lambda adds `Type`), so the body is the caller's.
 */
export function restJsonFault(
  fault: AwsFault,
  body: Record<string, unknown> = { Message: fault.message },
): LocalResponse {
  return {
    status: fault.status,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': fault.code },
    body: JSON.stringify(body),
  };
}

/** AWS JSON and REST-JSON carry timestamps as epoch seconds (fractional), not ISO strings. */
export function epochSeconds(at: Date): number {
  return at.getTime() / 1_000;
}

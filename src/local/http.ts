import type { IncomingHttpHeaders } from 'node:http';

/**
 * The local cloud serves every emulated AWS service from one endpoint. Each service is a
 * `LocalService`: the endpoint hands it every request in turn, and the first that claims it
 * (returns a response rather than `undefined`) answers. Services claim by protocol: AWS JSON
 * services by their `X-Amz-Target` prefix, REST services (Lambda) by path.
 */
export interface LocalRequest {
  method: string;
  /** Path and query string, as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface LocalResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface LocalService {
  readonly name: string;
  handle(request: LocalRequest): Promise<LocalResponse | undefined>;
}

/** An AWS JSON protocol error, shaped as the SDK's deserializers expect. */
export function awsJsonError(
  status: number,
  type: string,
  message: string,
  contentType = 'application/x-amz-json-1.0',
): LocalResponse {
  return {
    status,
    headers: { 'content-type': contentType, 'x-amzn-errortype': type },
    body: JSON.stringify({ __type: type, message }),
  };
}

export function awsJsonResult(
  result: unknown,
  contentType = 'application/x-amz-json-1.0',
): LocalResponse {
  return {
    status: 200,
    headers: { 'content-type': contentType },
    body: JSON.stringify(result ?? {}),
  };
}

/** The operation named by an AWS JSON request's `X-Amz-Target` (`AWSEvents.PutEvents` → `PutEvents`), if it has `prefix`. */
export function targetOperation(request: LocalRequest, prefix: string): string | undefined {
  const target = request.headers['x-amz-target'];
  if (typeof target !== 'string' || !target.startsWith(`${prefix}.`)) return undefined;
  return target.slice(prefix.length + 1);
}

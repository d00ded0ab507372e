/**
 * An AWS error answer, thrown inside a simulator's operations and rendered at the edge in the
 * shape of the service's protocol (see json.ts, rest-json.ts, query.ts). `code` is what the SDK
 * maps to its typed exception: the `__type` of AWS JSON, the `x-amzn-errortype` of REST-JSON,
 * the `<Code>` of awsQuery (`TargetGroupNotFound` → `TargetGroupNotFoundException`).
 */
export class AwsFault extends Error {
  override readonly name = 'AwsFault';
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** A fault factory: the same kind of fault, with the message of the case at hand. */
export type FaultOf = (message: string) => AwsFault;

/** A 400 of the given code, the usual shape of a client error. */
export function clientFault(code: string): FaultOf {
  return (message) => new AwsFault(400, code, message);
}

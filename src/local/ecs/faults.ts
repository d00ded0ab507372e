import { AwsFault } from '../aws-protocol/fault.ts';

/** An ECS error: AWS JSON 1.1 `__type`, a 400 unless said otherwise. */
export function ecsFault(code: string, message: string, status = 400): AwsFault {
  return new AwsFault(status, code, message);
}

export const invalidParameter = (message: string) => ecsFault('InvalidParameterException', message);
export const clientException = (message: string) => ecsFault('ClientException', message);

import { AwsFault, clientFault } from '../aws-protocol/fault.ts';

/** Lambda's error codes, each with the HTTP status Lambda answers it with. */
export const invalidParameter = clientFault('InvalidParameterValueException');
export const invalidRequestContent = clientFault('InvalidRequestContentException');

export function notFound(message: string): AwsFault {
  return new AwsFault(404, 'ResourceNotFoundException', message);
}

export function conflict(message: string): AwsFault {
  return new AwsFault(409, 'ResourceConflictException', message);
}

export function preconditionFailed(message: string): AwsFault {
  return new AwsFault(412, 'PreconditionFailedException', message);
}

export function serviceFault(message: string): AwsFault {
  return new AwsFault(500, 'ServiceException', message);
}

export const revisionMismatch =
  'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id';

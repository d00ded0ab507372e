import { LambdaClient } from '@aws-sdk/client-lambda';
import type { Wiring } from '../wiring.ts';

const makeLambda = () => new LambdaClient({});

/** The Lambda client of one wiring: the alias target and the idle colours share it. */
export function lambdaOf(wiring: Wiring): LambdaClient {
  return wiring.shared(makeLambda);
}

import { SFNClient } from '@aws-sdk/client-sfn';
import { SfnTaskCallbacks } from '../../aws/sfn-callbacks.ts';
import type { TaskCallbacks } from '../../core/ports.ts';
import type { Wiring } from '../wiring.ts';

/** Answers to the workflow's `.waitForTaskToken` tasks (Step Functions). */
export function buildTaskCallbacks(_wiring: Wiring): { callbacks: TaskCallbacks } {
  return { callbacks: new SfnTaskCallbacks({ client: new SFNClient({}) }) };
}

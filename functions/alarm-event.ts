import { createStepHandler } from '../src/runtime/step-handler.ts';
import { alarmEventStep } from '../src/steps/alarm-event.ts';

export const handler = createStepHandler(alarmEventStep);

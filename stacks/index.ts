import { greenlight } from '../greenlight.config.ts';
import { createGreenlight } from './greenlight.ts';

/** What sst.config.ts runs: greenlight for the current stage, from greenlight.config.ts. */
export function deployGreenlight() {
  return createGreenlight($app.stage, greenlight);
}

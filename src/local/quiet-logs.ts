/**
 * Imported first by `npm start` and the bench, before any handler module: Powertools' logger
 * takes its level from the environment when it is created and returns to it on every warm
 * invocation, so only the environment can quiet it. Verdicts (WARN) and step outcomes (INFO)
 * would otherwise bury the demo's timelines and the bench's table (both show the verdicts
 * themselves); faults (ERROR) still show.
 */
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

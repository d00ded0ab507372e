/**
 * Imported first by the bench's entry points, before any handler module: Powertools' logger
 * takes its level from the environment when it is created and returns to it on every warm
 * invocation, so only the environment can quiet it. Verdicts (WARN) and step outcomes (INFO)
 * would otherwise bury the table; faults (ERROR) still show.
 */
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

// The "orders" service before any migration (blue in the tests): it reads columns that a
// breaking expand would take away, so it answers 500 once one the runner marks
// `breaksOldCode` is applied (test/support/stand-in-runner.ts).
export async function handler() {
  const runner = globalThis.__greenlightStandInRunner;
  const broken = [...(runner?.applied ?? [])].filter((id) => runner.migrations[id]?.breaksOldCode);
  if (broken.length > 0) {
    return {
      statusCode: 500,
      body: JSON.stringify({ error: `column missing after ${broken[0]}` }),
    };
  }
  return { statusCode: 200, body: JSON.stringify({ ok: true, version: 'old' }) };
}

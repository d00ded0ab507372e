import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const platformPackage = `${root}.sst/platform/package.json`;

/**
 * The Pulumi SDKs SST deploys with live in .sst/platform (written by `sst install`), not in
 * node_modules: testing against them tests the versions that deploy. A fresh checkout gets
 * them here, offline through the npm registry, the same way .ci/run does.
 */
export function requireFromSstPlatform(): NodeJS.Require {
  if (!existsSync(`${root}.sst/platform/node_modules/@pulumi/aws/package.json`)) {
    process.stderr.write('greenlight infra tests: installing SST platform types (once, ~1 min)\n');
    execFileSync('npx', ['sst', 'install'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        SST_SKIP_DEPENDENCY_CHECK: '1',
        SST_NO_BUN: '1',
        SST_STAGE: 'ci',
        SST_TELEMETRY_DISABLED: '1',
      },
    });
  }
  return createRequire(platformPackage);
}

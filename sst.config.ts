/// <reference path="./.sst/platform/config.d.ts" />

export default $config({
  app(input) {
    const production = input?.stage === 'production' || input?.stage === 'prod';
    return {
      name: 'greenlight',
      home: 'aws',
      // Production keeps its tables and logs if the stack is removed, and refuses `sst remove`.
      removal: production ? 'retain' : 'remove',
      protect: production,
    };
  },
  async run() {
    const { deployGreenlight } = await import('./stacks/index.ts');
    return deployGreenlight();
  },
});

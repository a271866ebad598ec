/// <reference path="./.sst/platform/config.d.ts" />

/**
 * AWS infrastructure for GPU capacity. Thin on purpose: each concern lives in `infra/`.
 * The ECS capacity providers, task definitions and orchestrator IAM arrive with the orchestrator issue.
 */
export default $config({
  app(input) {
    return {
      name: 'ai-cloud',
      removal: input?.stage === 'production' ? 'retain' : 'remove',
      home: 'aws',
    };
  },
  async run() {
    const { vpc } = await import('./infra/network');
    const { cluster } = await import('./infra/cluster');
    return { vpc: vpc.id, cluster: cluster.nodes.cluster.name };
  },
});

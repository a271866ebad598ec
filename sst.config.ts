/// <reference path="./.sst/platform/config.d.ts" />

/**
 * AWS infrastructure for GPU capacity. Thin on purpose: each concern lives in `infra/`. The outputs
 * are the edge's ECS_* and AWS_* settings (README "Deploying").
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
    const { capacityProviders } = await import('./infra/gpu-capacity');
    const { repositories, taskDefinitions, taskSecurityGroups } = await import('./infra/workers');
    const { orchestratorKey } = await import('./infra/orchestrator');
    await import('./infra/replica-events');
    return {
      AWS_REGION: aws.getRegionOutput().name,
      ECS_CLUSTER: cluster.nodes.cluster.name,
      ECS_CAPACITY_PROVIDERS: $jsonStringify(capacityProviders),
      ECS_TASK_DEFINITIONS: $jsonStringify(
        Object.fromEntries(
          Object.entries(taskDefinitions).map(([engine, definition]) => [engine, definition.family]),
        ),
      ),
      ECS_SUBNETS: $resolve(vpc.privateSubnets).apply((subnets) => subnets.join(',')),
      ECS_SECURITY_GROUPS: $resolve(taskSecurityGroups).apply((groups) => groups.join(',')),
      WORKER_REPOSITORIES: $jsonStringify(
        Object.fromEntries(
          Object.entries(repositories).map(([engine, repository]) => [engine, repository.repositoryUrl]),
        ),
      ),
      AWS_ACCESS_KEY_ID: orchestratorKey.id,
      AWS_SECRET_ACCESS_KEY: $util.secret(orchestratorKey.secret),
    };
  },
});

import type { ComputeProvider } from '../../core/compute.ts';
import type { EdgeConfig } from '../../env.ts';
import { guardDependency } from '../guard.ts';
import { Ec2ComputeProvider } from './ec2.ts';
import { EcsComputeProvider } from './ecs.ts';
import { createLocalCompute } from './local.ts';

/** The provider COMPUTE_PROVIDER names, configured from the (already validated) environment. */
export function createComputeProvider(config: EdgeConfig): ComputeProvider {
  const client = {
    region: config.AWS_REGION ?? '',
    credentials: {
      accessKeyId: config.AWS_ACCESS_KEY_ID ?? '',
      secretAccessKey: config.AWS_SECRET_ACCESS_KEY ?? '',
    },
    ...(config.AWS_ENDPOINT_URL ? { endpoint: config.AWS_ENDPOINT_URL } : {}),
  };
  // Capacity errors are answers (the orchestrator falls back); anything else is the service failing.
  const isCapacity = (error: unknown) => error instanceof Error && error.name === 'CapacityUnavailableError';
  if (config.COMPUTE_PROVIDER === 'ec2') {
    const provider = new Ec2ComputeProvider({
      launchTemplates: config.EC2_LAUNCH_TEMPLATES ?? {},
      images: config.EC2_IMAGES ?? {},
      client,
    });
    return guardDependency('compute', provider, isCapacity);
  }
  if (config.COMPUTE_PROVIDER === 'ecs') {
    const provider = new EcsComputeProvider({
      cluster: config.ECS_CLUSTER ?? '',
      capacityProviders: config.ECS_CAPACITY_PROVIDERS ?? {},
      taskDefinitions: config.ECS_TASK_DEFINITIONS ?? {},
      subnets: config.ECS_SUBNETS ?? [],
      securityGroups: config.ECS_SECURITY_GROUPS ?? [],
      client,
    });
    return guardDependency('compute', provider, isCapacity);
  }
  return createLocalCompute(config.LOCAL_COMPUTE_URL ?? '', config.LOCAL_COMPUTE_TOKEN);
}

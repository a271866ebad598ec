import { workerSecurityGroup } from './gpu-capacity';

/** The engines' worker images (gpu-workers/images/*.Dockerfile), one ECR repository each. */
export const ENGINES = ['vllm', 'whisper', 'diffusers', 'tts'] as const;

export const repositories = Object.fromEntries(
  ENGINES.map((engine) => [
    engine,
    new aws.ecr.Repository(`Worker${engine}Repo`, {
      name: `aicloud/worker-${engine}`,
      imageScanningConfiguration: { scanOnPush: true },
      imageTagMutability: 'IMMUTABLE',
    }),
  ]),
) as Record<(typeof ENGINES)[number], aws.ecr.Repository>;

const logs = new aws.cloudwatch.LogGroup('WorkerLogs', { name: '/aicloud/workers', retentionInDays: 14 });

const executionRole = new aws.iam.Role('WorkerExecutionRole', {
  assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: 'ecs-tasks.amazonaws.com' }),
  managedPolicyArns: ['arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy'],
});
/** Workers need no AWS permission: they talk only to the edge, with their replica token. */
const taskRole = new aws.iam.Role('WorkerTaskRole', {
  assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: 'ecs-tasks.amazonaws.com' }),
});

/** The image tag deployed (`sst deploy` with WORKER_IMAGE_TAG=…, after pushing the images). */
const tag = process.env.WORKER_IMAGE_TAG ?? 'latest';

export const taskDefinitions = Object.fromEntries(
  ENGINES.map((engine) => [
    engine,
    new aws.ecs.TaskDefinition(`Worker${engine}Task`, {
      family: `aicloud-worker-${engine}`,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['EC2'],
      executionRoleArn: executionRole.arn,
      taskRoleArn: taskRole.arn,
      // Sized for a g5.2xlarge host; RunTask overrides the GPU count per replica.
      cpu: '7168',
      memory: '28672',
      containerDefinitions: $jsonStringify([
        {
          name: 'worker',
          image: $interpolate`${repositories[engine].repositoryUrl}:${tag}`,
          essential: true,
          stopTimeout: 120,
          resourceRequirements: [{ type: 'GPU', value: '1' }],
          linuxParameters: { sharedMemorySize: 16384 },
          logConfiguration: {
            logDriver: 'awslogs',
            options: {
              'awslogs-group': logs.name,
              'awslogs-region': aws.getRegionOutput().name,
              'awslogs-stream-prefix': engine,
            },
          },
        },
      ]),
    }),
  ]),
) as Record<(typeof ENGINES)[number], aws.ecs.TaskDefinition>;

export const taskSecurityGroups = [workerSecurityGroup.id];
export const taskRoles = [executionRole.arn, taskRole.arn];

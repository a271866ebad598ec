import { cluster } from './cluster';
import { vpc } from './network';

/**
 * GPU families, each an auto-scaling group of the ECS GPU-optimised AMI behind an ECS capacity
 * provider. Groups rest at zero instances: RunTask on a provider makes ECS managed scaling launch one.
 * `gpus` maps the platform's GPU SKUs (the catalog's slugs) to the family that serves them.
 */
export const GPU_FAMILIES = [
  { name: 'g5', instanceType: 'g5.2xlarge', gpus: ['a10g'], maxInstances: 20 },
  { name: 'g6', instanceType: 'g6.2xlarge', gpus: ['l4'], maxInstances: 20 },
  { name: 'p4d', instanceType: 'p4d.24xlarge', gpus: ['a100-40gb'], maxInstances: 4 },
  { name: 'p4de', instanceType: 'p4de.24xlarge', gpus: ['a100-80gb'], maxInstances: 4 },
] as const;

const gpuAmi = aws.ssm.getParameterOutput({
  name: '/aws/service/ecs/optimized-ami/amazon-linux-2/gpu/recommended/image_id',
});

const hostRole = new aws.iam.Role('GpuHostRole', {
  assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: 'ec2.amazonaws.com' }),
  managedPolicyArns: [
    'arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role',
    'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore',
    // Instances started by the ec2 provider pull worker images themselves.
    'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly',
  ],
});
const hostProfile = new aws.iam.InstanceProfile('GpuHostProfile', { role: hostRole.name });

/** Hosts accept nothing from outside; tasks (awsvpc) reach the edge over NAT. */
export const workerSecurityGroup = new aws.ec2.SecurityGroup('GpuWorkers', {
  vpcId: vpc.id,
  description: 'GPU worker hosts and tasks: egress only',
  egress: [{ protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['0.0.0.0/0'] }],
});

export const capacity = GPU_FAMILIES.map((family) => {
  const template = new aws.ec2.LaunchTemplate(`Gpu${family.name}Template`, {
    name: `aicloud-${family.name}`,
    imageId: gpuAmi.value,
    instanceType: family.instanceType,
    iamInstanceProfile: { arn: hostProfile.arn },
    vpcSecurityGroupIds: [workerSecurityGroup.id],
    // IMDSv2 only; one hop, so task containers cannot read the host's credentials.
    metadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 1, httpEndpoint: 'enabled' },
    blockDeviceMappings: [
      { deviceName: '/dev/xvda', ebs: { volumeSize: 200, volumeType: 'gp3', encrypted: 'true' } },
    ],
    userData: cluster.nodes.cluster.name.apply((name) =>
      btoa(
        `#!/bin/bash\necho "ECS_CLUSTER=${name}\nECS_ENABLE_GPU_SUPPORT=true\nECS_AWSVPC_BLOCK_IMDS=true" >> /etc/ecs/ecs.config\n`,
      ),
    ),
    tagSpecifications: [{ resourceType: 'instance', tags: { 'aicloud:family': family.name } }],
  });
  const group = new aws.autoscaling.Group(`Gpu${family.name}Group`, {
    minSize: 0,
    maxSize: family.maxInstances,
    vpcZoneIdentifiers: vpc.privateSubnets,
    launchTemplate: { id: template.id, version: '$Latest' },
    // ECS decides which instances may go (managed termination protection).
    protectFromScaleIn: true,
    tags: [{ key: 'AmazonECSManaged', value: 'true', propagateAtLaunch: true }],
  });
  const provider = new aws.ecs.CapacityProvider(`Gpu${family.name}Capacity`, {
    name: `aicloud-${family.name}`,
    autoScalingGroupProvider: {
      autoScalingGroupArn: group.arn,
      managedTerminationProtection: 'ENABLED',
      managedScaling: {
        status: 'ENABLED',
        targetCapacity: 100,
        minimumScalingStepSize: 1,
        maximumScalingStepSize: 4,
      },
    },
  });
  return { family, template, group, provider };
});

new aws.ecs.ClusterCapacityProviders('GpuClusterCapacity', {
  clusterName: cluster.nodes.cluster.name,
  capacityProviders: capacity.map(({ provider }) => provider.name),
});

/** What the edge's ECS_CAPACITY_PROVIDERS holds: GPU slug → capacity provider name. */
export const capacityProviders = $resolve(capacity.map(({ provider }) => provider.name)).apply((names) =>
  Object.fromEntries(GPU_FAMILIES.flatMap((family, i) => family.gpus.map((gpu) => [gpu, names[i] ?? '']))),
);

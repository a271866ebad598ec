import { cluster } from './cluster';
import { taskDefinitions, taskRoles } from './workers';

/**
 * The identity the edge (on Cloudflare, outside AWS) uses to start and stop workers: an IAM user with
 * an access key, allowed only the ECS and EC2 calls the orchestrator makes, on this cluster and on
 * instances carrying the platform's replica tag.
 */
const user = new aws.iam.User('Orchestrator', { name: 'aicloud-orchestrator' });

const policy = $resolve([
  cluster.nodes.cluster.arn,
  ...Object.values(taskDefinitions).map((definition) => definition.arnWithoutRevision),
  ...taskRoles,
]).apply(([clusterArn, ...rest]) => {
  const definitions = rest.slice(0, Object.keys(taskDefinitions).length);
  const roles = rest.slice(Object.keys(taskDefinitions).length);
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'RunWorkerTasks',
        Effect: 'Allow',
        Action: ['ecs:RunTask'],
        Resource: definitions.map((arn) => `${arn}:*`),
        Condition: { ArnEquals: { 'ecs:cluster': clusterArn } },
      },
      {
        Sid: 'ManageWorkerTasks',
        Effect: 'Allow',
        Action: ['ecs:StopTask', 'ecs:DescribeTasks', 'ecs:TagResource'],
        Resource: '*',
        Condition: { ArnEquals: { 'ecs:cluster': clusterArn } },
      },
      { Sid: 'ListWorkerTasks', Effect: 'Allow', Action: ['ecs:ListTasks'], Resource: clusterArn },
      { Sid: 'PassWorkerRoles', Effect: 'Allow', Action: ['iam:PassRole'], Resource: roles },
      {
        Sid: 'LaunchTaggedInstances',
        Effect: 'Allow',
        Action: ['ec2:RunInstances'],
        Resource: 'arn:aws:ec2:*:*:instance/*',
        Condition: { Null: { 'aws:RequestTag/aicloud:replica': 'false' } },
      },
      {
        Sid: 'LaunchFromPlatformTemplates',
        Effect: 'Allow',
        Action: ['ec2:RunInstances'],
        NotResource: 'arn:aws:ec2:*:*:instance/*',
      },
      {
        Sid: 'TagAtLaunch',
        Effect: 'Allow',
        Action: ['ec2:CreateTags'],
        Resource: 'arn:aws:ec2:*:*:*/*',
        Condition: { StringEquals: { 'ec2:CreateAction': 'RunInstances' } },
      },
      {
        Sid: 'TerminateTaggedInstances',
        Effect: 'Allow',
        Action: ['ec2:TerminateInstances'],
        Resource: 'arn:aws:ec2:*:*:instance/*',
        Condition: { Null: { 'aws:ResourceTag/aicloud:replica': 'false' } },
      },
      { Sid: 'DescribeInstances', Effect: 'Allow', Action: ['ec2:DescribeInstances'], Resource: '*' },
    ],
  });
});

new aws.iam.UserPolicy('OrchestratorPolicy', { user: user.name, policy });

export const orchestratorKey = new aws.iam.AccessKey('OrchestratorKey', { user: user.name });

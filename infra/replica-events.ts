import { cluster } from './cluster';

/**
 * A worker that stops on its own (crash, out of memory, capacity reclaimed, node lost) is reported to
 * the orchestrator within seconds rather than at the next minute check: EventBridge matches the state
 * change and publishes it through QStash, which signs it and retries, to the edge's reconcile route as
 * `{"replica_ended": {...}}`. An ECS task this platform started names its replica by its group (set
 * at RunTask); an EC2 instance (the `ec2` provider) by its instance id, since instance events carry no
 * tags, so every instance of the account's region is reported and the edge ignores the ones it does
 * not know. The edge checks each report against the provider's own list before acting, so a forged
 * or stale report changes nothing.
 */
const edgeUrl = new sst.Secret('EdgeUrl');
const qstashToken = new sst.Secret('QstashToken');
const qstashUrl = new sst.Secret('QstashUrl', 'https://qstash.upstash.io');

const connection = new aws.cloudwatch.EventConnection('QStashConnection', {
  authorizationType: 'API_KEY',
  authParameters: {
    apiKey: { key: 'Authorization', value: $interpolate`Bearer ${qstashToken.value}` },
  },
});

const reconcileRoute = new aws.cloudwatch.EventApiDestination('ReplicaEndedToQStash', {
  connectionArn: connection.arn,
  httpMethod: 'POST',
  invocationEndpoint: $interpolate`${qstashUrl.value}/v2/publish/${edgeUrl.value}/internal/orchestrator/reconcile`,
  invocationRateLimitPerSecond: 50,
});

const stoppedTasks = new aws.cloudwatch.EventRule('WorkerTaskStopped', {
  eventPattern: $jsonStringify({
    source: ['aws.ecs'],
    'detail-type': ['ECS Task State Change'],
    detail: {
      clusterArn: [cluster.nodes.cluster.arn],
      lastStatus: ['STOPPED'],
      startedBy: ['aicloud'],
    },
  }),
});

const invokeRole = new aws.iam.Role('ReplicaEndedInvoker', {
  assumeRolePolicy: JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ],
  }),
});

new aws.iam.RolePolicy('ReplicaEndedInvokerPolicy', {
  role: invokeRole.id,
  policy: $jsonStringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['events:InvokeApiDestination'], Resource: [reconcileRoute.arn] }],
  }),
});

const stoppedInstances = new aws.cloudwatch.EventRule('WorkerInstanceStopped', {
  eventPattern: $jsonStringify({
    source: ['aws.ec2'],
    'detail-type': ['EC2 Instance State-change Notification'],
    detail: { state: ['stopping', 'stopped', 'shutting-down', 'terminated'] },
  }),
});

/**
 * Sends each event the rule matches to the reconcile route through QStash, as the `replica_ended`
 * body built from it. Placeholders stand outside quotes: EventBridge inserts each value as a JSON
 * string, escaped.
 */
function reportEnded(
  name: string,
  rule: aws.cloudwatch.EventRule,
  paths: Record<string, string>,
  body: string,
) {
  new aws.cloudwatch.EventTarget(name, {
    rule: rule.name,
    arn: reconcileRoute.arn,
    roleArn: invokeRole.arn,
    inputTransformer: { inputPaths: paths, inputTemplate: body },
    httpTarget: { headerParameters: { 'Content-Type': 'application/json', 'Upstash-Retries': '3' } },
    retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 10 },
  });
}

reportEnded(
  'ReplicaEndedReport',
  stoppedTasks,
  { replica: '$.detail.group', task: '$.detail.taskArn', reason: '$.detail.stoppedReason' },
  '{"replica_ended":{"replica_id":<replica>,"provider_ref":<task>,"reason":<reason>}}',
);

reportEnded(
  'InstanceEndedReport',
  stoppedInstances,
  { instance: '$.detail.instance-id', state: '$.detail.state' },
  '{"replica_ended":{"provider_ref":<instance>,"reason":<state>}}',
);

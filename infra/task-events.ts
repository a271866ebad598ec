import { cluster } from './cluster';

/**
 * A worker task that stops on its own (crash, out of memory, capacity reclaimed, node lost) is
 * reported to the orchestrator within seconds rather than at the next minute check: EventBridge
 * matches the ECS state change of a task this platform started and publishes it through QStash, which
 * signs it and retries, to the edge's reconcile route as `{"replica_ended": {...}}`. The task's group
 * is its replica id (set at RunTask), so the report names it; the edge checks it against its own
 * task list before acting, so a forged or stale report changes nothing.
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

new aws.cloudwatch.EventTarget('ReplicaEndedReport', {
  rule: stoppedTasks.name,
  arn: reconcileRoute.arn,
  roleArn: invokeRole.arn,
  inputTransformer: {
    inputPaths: { replica: '$.detail.group', reason: '$.detail.stoppedReason' },
    // Placeholders outside quotes: EventBridge inserts each value as a JSON string, escaped.
    inputTemplate: '{"replica_ended":{"replica_id":<replica>,"reason":<reason>}}',
  },
  httpTarget: { headerParameters: { 'Content-Type': 'application/json', 'Upstash-Retries': '3' } },
  retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 10 },
});

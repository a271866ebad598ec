import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EcsComputeProvider } from '../../functions/lib/compute/ecs.ts';

interface FakeTask {
  taskArn: string;
  lastStatus: string;
  desiredStatus: string;
  startedBy: string;
  tags: { key: string; value: string }[];
  createdAt: number;
  startedAt?: number;
  stopCode?: string;
  stoppedReason?: string;
  capacityProviderName: string;
}

/**
 * A stand-in for the ECS control plane speaking its wire protocol (awsJson1_1 over HTTP), so the real
 * `@aws-sdk/client-ecs` — serialisation, error parsing, retries — is what the tests drive. It records
 * every request and can throttle or run out of capacity on demand.
 */
export async function startFakeEcs() {
  const requests: { action: string; body: Record<string, unknown> }[] = [];
  const tasks = new Map<string, FakeTask>();
  const byClientToken = new Map<string, string>();
  const state = { throttleNext: 0, capacity: new Map<string, number>() };

  const error = (type: string, message: string) => ({ status: 400, body: { __type: type, message } });

  const handle = (action: string, body: Record<string, unknown>): { status: number; body: unknown } => {
    if (state.throttleNext > 0) {
      state.throttleNext--;
      return error('ThrottlingException', 'Rate exceeded');
    }
    switch (action) {
      case 'RunTask': {
        const token = String(body.clientToken ?? '');
        const existing = byClientToken.get(token);
        if (existing) return { status: 200, body: { tasks: [tasks.get(existing)], failures: [] } };
        const provider =
          (body.capacityProviderStrategy as { capacityProvider: string }[])[0]?.capacityProvider ?? '';
        const room = state.capacity.get(provider) ?? 0;
        if (room <= 0) {
          return {
            status: 200,
            body: { tasks: [], failures: [{ arn: `arn:cp/${provider}`, reason: 'RESOURCE:GPU' }] },
          };
        }
        state.capacity.set(provider, room - 1);
        // Task ids are random, as ECS's are: suites sharing the database never see the same ARN twice.
        const taskArn = `arn:aws:ecs:us-east-1:123456789012:task/gpu/${randomUUID().replaceAll('-', '')}`;
        const task: FakeTask = {
          taskArn,
          lastStatus: 'PROVISIONING',
          desiredStatus: 'RUNNING',
          createdAt: Date.now() / 1000,
          startedBy: String(body.startedBy ?? ''),
          tags: (body.tags as FakeTask['tags']) ?? [],
          capacityProviderName: provider,
        };
        tasks.set(taskArn, task);
        byClientToken.set(token, taskArn);
        return { status: 200, body: { tasks: [task], failures: [] } };
      }
      case 'StopTask': {
        const task = tasks.get(String(body.task));
        if (!task) return error('InvalidParameterException', 'The referenced task was not found.');
        Object.assign(task, {
          lastStatus: 'STOPPED',
          desiredStatus: 'STOPPED',
          stopCode: 'UserInitiated',
          stoppedReason: body.reason,
        });
        return { status: 200, body: { task } };
      }
      case 'ListTasks': {
        const arns = [...tasks.values()]
          .filter(
            (task) =>
              task.desiredStatus === (body.desiredStatus ?? 'RUNNING') && task.startedBy === body.startedBy,
          )
          .map((task) => task.taskArn);
        return { status: 200, body: { taskArns: arns } };
      }
      case 'DescribeTasks': {
        const found = (body.tasks as string[]).map((arn) => tasks.get(arn)).filter(Boolean);
        return { status: 200, body: { tasks: found, failures: [] } };
      }
      default:
        return error('UnknownOperationException', `unknown action ${action}`);
    }
  };

  const server: Server = createServer(async (request, response) => {
    let raw = '';
    for await (const chunk of request) raw += chunk;
    const action =
      String(request.headers['x-amz-target'] ?? '')
        .split('.')
        .pop() ?? '';
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    requests.push({ action, body });
    const answer = handle(action, body);
    response
      .writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1' })
      .end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    tasks,
    state,
    /** The real ECS provider, pointed at this stand-in: GPU type → capacity provider as given. */
    provider(capacityProviders: Record<string, string>) {
      return new EcsComputeProvider({
        cluster: 'aicloud-gpu',
        capacityProviders,
        taskDefinitions: { vllm: 'aicloud-worker-vllm' },
        subnets: ['subnet-a'],
        securityGroups: ['sg-workers'],
        client: {
          endpoint: url,
          region: 'us-east-1',
          credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
        },
      });
    },
    /** The task was accepted `ms` earlier than it was (one left waiting on capacity that long). */
    age(arn: string, ms: number) {
      const task = tasks.get(arn);
      if (task) task.createdAt -= ms / 1000;
    },
    /** The task reaches RUNNING (its instance came up and pulled the image). */
    run(arn: string) {
      Object.assign(tasks.get(arn) ?? {}, { lastStatus: 'RUNNING', startedAt: Date.now() / 1000 });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

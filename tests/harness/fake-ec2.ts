import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface FakeInstance {
  id: string;
  state: 'pending' | 'running' | 'shutting-down' | 'terminated';
  template: string;
  tags: Record<string, string>;
  userData: string;
  metadata: Record<string, string>;
}

const escapeXml = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

const instanceXml = (instance: FakeInstance) => `<item>
  <instanceId>${instance.id}</instanceId>
  <instanceState><code>${instance.state === 'running' ? 16 : 0}</code><name>${instance.state}</name></instanceState>
  <launchTime>2026-11-23T12:00:00.000Z</launchTime>
  <tagSet>${Object.entries(instance.tags)
    .map(([key, value]) => `<item><key>${escapeXml(key)}</key><value>${escapeXml(value)}</value></item>`)
    .join('')}</tagSet>
</item>`;

/**
 * A stand-in for the EC2 API speaking its Query protocol (form-encoded requests, XML answers), so the
 * real `@aws-sdk/client-ec2` is what the tests drive. Records requests; capacity per launch template.
 */
export async function startFakeEc2() {
  const requests: { action: string; params: Record<string, string> }[] = [];
  const instances = new Map<string, FakeInstance>();
  const byClientToken = new Map<string, string>();
  const state = { capacity: new Map<string, number>(), throttleNext: 0 };
  const counter = 0;

  const error = (status: number, code: string, message: string) => ({
    status,
    body: `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>req-${counter}</RequestID></Response>`,
  });
  const ok = (action: string, inner: string) => ({
    status: 200,
    body: `<?xml version="1.0" encoding="UTF-8"?><${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req</requestId>${inner}</${action}Response>`,
  });

  const handle = (action: string, params: Record<string, string>) => {
    if (state.throttleNext > 0) {
      state.throttleNext--;
      return error(503, 'RequestLimitExceeded', 'Request limit exceeded.');
    }
    switch (action) {
      case 'RunInstances': {
        const token = params.ClientToken ?? '';
        const existing = byClientToken.get(token);
        if (existing) {
          const instance = instances.get(existing) as FakeInstance;
          return ok(
            action,
            `<reservationId>r-1</reservationId><instancesSet>${instanceXml(instance)}</instancesSet>`,
          );
        }
        const template = params['LaunchTemplate.LaunchTemplateName'] ?? '';
        const room = state.capacity.get(template) ?? 0;
        if (room <= 0) {
          return error(
            500,
            'InsufficientInstanceCapacity',
            `We currently do not have sufficient capacity for ${template}.`,
          );
        }
        state.capacity.set(template, room - 1);
        const tags: Record<string, string> = {};
        for (let i = 1; params[`TagSpecification.1.Tag.${i}.Key`]; i++) {
          tags[params[`TagSpecification.1.Tag.${i}.Key`] ?? ''] =
            params[`TagSpecification.1.Tag.${i}.Value`] ?? '';
        }
        const instance: FakeInstance = {
          // Random, as EC2's are: suites sharing the database never see the same instance id twice.
          id: `i-${randomUUID().replaceAll('-', '').slice(0, 17)}`,
          state: 'pending',
          template,
          tags,
          userData: Buffer.from(params.UserData ?? '', 'base64').toString('utf8'),
          metadata: {
            HttpTokens: params['MetadataOptions.HttpTokens'] ?? '',
            HttpPutResponseHopLimit: params['MetadataOptions.HttpPutResponseHopLimit'] ?? '',
          },
        };
        instances.set(instance.id, instance);
        byClientToken.set(token, instance.id);
        return ok(
          action,
          `<reservationId>r-1</reservationId><instancesSet>${instanceXml(instance)}</instancesSet>`,
        );
      }
      case 'TerminateInstances': {
        const instance = instances.get(params['InstanceId.1'] ?? '');
        if (!instance) return error(400, 'InvalidInstanceID.NotFound', 'The instance ID does not exist');
        instance.state = 'terminated';
        return ok(
          action,
          `<instancesSet><item><instanceId>${instance.id}</instanceId></item></instancesSet>`,
        );
      }
      case 'DescribeInstances': {
        const live = [...instances.values()];
        return ok(
          action,
          `<reservationSet><item><reservationId>r-1</reservationId><instancesSet>${live.map(instanceXml).join('')}</instancesSet></item></reservationSet>`,
        );
      }
      default:
        return error(400, 'InvalidAction', `unknown action ${action}`);
    }
  };

  const server: Server = createServer(async (request, response) => {
    let raw = '';
    for await (const chunk of request) raw += chunk;
    const params = Object.fromEntries(new URLSearchParams(raw));
    const action = params.Action ?? '';
    requests.push({ action, params });
    const answer = handle(action, params);
    response.writeHead(answer.status, { 'content-type': 'text/xml;charset=UTF-8' }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    instances,
    state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

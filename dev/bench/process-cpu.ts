import { readdirSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc reports CPU time in these ticks on every common kernel build. */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system, ms) of a process tree, by part of the stack. */
export type CpuSnapshot = Record<StackPart, number>;
export type StackPart = 'edge' | 'agents' | 'stand-ins' | 'redis' | 'postgres';

/** Which part of the local stack a process is, from its command line. */
function partOf(commandLine: string): StackPart {
  if (
    commandLine.includes('edge-node.ts') ||
    commandLine.includes('workerd') ||
    commandLine.includes('wrangler')
  )
    return 'edge';
  if (commandLine.includes('agent/main.ts')) return 'agents';
  if (commandLine.includes('redis-server')) return 'redis';
  if (commandLine.includes('postgres')) return 'postgres';
  return 'stand-ins';
}

interface ProcessStat {
  pid: number;
  parent: number;
  cpuMs: number;
}

function readStat(pid: number): ProcessStat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { pid, parent: Number(fields[1]), cpuMs: (ticks * 1000) / TICKS_PER_SECOND };
  } catch {
    return null; // it exited meanwhile
  }
}

/**
 * CPU time used so far by `rootPid` and every process under it (the local stack: edge, agents,
 * stand-ins, Redis, Postgres), or null off Linux. Two snapshots around a load run give the CPU the
 * platform spent per request, a figure that varies far less from run to run than requests per second
 * on a shared machine. Processes that exited before the second snapshot are not counted.
 */
export function stackCpu(rootPid: number): CpuSnapshot | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  const stats = entries.map((name) => readStat(Number(name))).filter((stat) => stat !== null);
  const children = new Map<number, ProcessStat[]>();
  for (const stat of stats) children.set(stat.parent, [...(children.get(stat.parent) ?? []), stat]);
  const root = stats.find((stat) => stat.pid === rootPid);
  if (!root) return null;
  const snapshot: CpuSnapshot = { edge: 0, agents: 0, 'stand-ins': 0, redis: 0, postgres: 0 };
  const pending = [root];
  for (let next = pending.pop(); next; next = pending.pop()) {
    let commandLine = '';
    try {
      commandLine = readFileSync(`/proc/${next.pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {}
    snapshot[partOf(commandLine)] += next.cpuMs;
    pending.push(...(children.get(next.pid) ?? []));
  }
  return snapshot;
}

/** CPU ms per request of each part, and of the whole stack, between two snapshots. */
export function cpuPerRequest(before: CpuSnapshot, after: CpuSnapshot, requests: number) {
  const parts = Object.keys(before) as StackPart[];
  const per = (part: StackPart) => (after[part] - before[part]) / Math.max(1, requests);
  const byPart = Object.fromEntries(parts.map((part) => [part, round(per(part))])) as CpuSnapshot;
  return { ...byPart, total: round(parts.reduce((sum, part) => sum + per(part), 0)) };
}

const round = (ms: number) => Math.round(ms * 100) / 100;

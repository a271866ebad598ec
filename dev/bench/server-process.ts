import { type ChildProcess, spawn } from 'node:child_process';

export interface ServerProcess {
  url: string;
  close(): Promise<void>;
}

/**
 * Runs a bench server (`script` with `args`) in its own Node process, so the load tool does not share
 * its event loop; the script prints its URL as its first line of output.
 */
export async function startServerProcess(
  name: string,
  script: string,
  args: string[],
): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.setEncoding('utf8');
    child.stdout?.once('data', (line: string) => resolve(line.trim()));
    child.once('exit', (code) => reject(new Error(`the ${name} exited with ${code}`)));
  });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

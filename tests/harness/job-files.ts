import type { JobFiles } from '../../gpu-workers/engines/engine.ts';

/** A job's files in memory, as an engine adapter sees them through the worker API. */
export function memoryFiles(input?: Blob) {
  const outputs = new Map<string, Blob>();
  const files: JobFiles = {
    async input() {
      if (!input) throw new Error('this job has no input file');
      return input;
    },
    async output(name, file) {
      outputs.set(name, file);
    },
  };
  return { files, outputs };
}

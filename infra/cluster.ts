import { vpc } from './network';

/** The ECS cluster that GPU worker tasks are placed on. */
export const cluster = new sst.aws.Cluster('GpuCluster', { vpc });

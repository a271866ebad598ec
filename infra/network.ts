/** The VPC GPU hosts run in: private subnets with NAT so workers reach the edge but nothing reaches them. */
export const vpc = new sst.aws.Vpc('GpuVpc', { nat: 'managed', az: 2 });

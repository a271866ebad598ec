/** Time as a dependency, so scaling, billing and lease code can be tested at any instant. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Stopping takes a live endpoint offline, its callers getting errors until it starts again: asked first. */
export const confirmStop = (name: string) =>
  window.confirm(`Stop ${name}? Its replicas are released and requests to it fail until you start it again.`);

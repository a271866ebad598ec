import { type Dependency, DependencyUnavailableError, ServiceError } from '../core/errors.ts';

/**
 * Wraps a client of a backing service so that any failure of its calls becomes a
 * DependencyUnavailableError naming the service (rendered as 503), unless `isApplicationError` says the
 * service answered and the request itself was wrong. Chained builders (pipelines) are wrapped too.
 */
export function guardDependency<T extends object>(
  dependency: Dependency,
  client: T,
  isApplicationError: (error: unknown) => boolean = () => false,
): T {
  const wrapError = (error: unknown): never => {
    if (error instanceof ServiceError || isApplicationError(error)) throw error;
    throw new DependencyUnavailableError(dependency, { cause: error });
  };
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        let result: unknown;
        try {
          result = Reflect.apply(value, target, args);
        } catch (error) {
          return wrapError(error);
        }
        if (result instanceof Promise) return result.catch(wrapError);
        if (result && typeof result === 'object' && result !== target) {
          return guardDependency(dependency, result as object, isApplicationError);
        }
        return result === target ? receiver : result;
      };
    },
  });
}

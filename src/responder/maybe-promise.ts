/**
 * Values that are usually ready now. The hot path (a bodiless request answered without delay)
 * stays synchronous: each await costs a promise and a microtask per request.
 */
export type MaybePromise<T> = T | Promise<T>;

export function then<T, U>(value: MaybePromise<T>, next: (v: T) => MaybePromise<U>): MaybePromise<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}

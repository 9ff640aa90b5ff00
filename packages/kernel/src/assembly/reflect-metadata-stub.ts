// Evaluated before tsyringe (see tsyringe.ts): the metadata read tsyringe checks for at load time.
const reflect = Reflect as typeof Reflect & { getMetadata?: (key: unknown, target: unknown) => unknown };
reflect.getMetadata ??= () => undefined;

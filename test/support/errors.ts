/** The error `act` throws, which must be of `type`; fails the test when nothing or something else is thrown. */
export function thrownBy<E extends Error>(act: () => unknown, type: abstract new (...args: never[]) => E): E {
  try {
    act();
  } catch (e) {
    expect(e).toBeInstanceOf(type);
    return e as E;
  }
  throw new Error(`expected a ${type.name}`);
}

import fc from "fast-check";
import {
  hasUnsafeIntegerLiteral,
  parseJsonBody,
  readListOfObjects,
  serializeJsonBody,
  writeObject,
} from "../../guard/json-body";

const bytes = (s: string | Uint8Array) => (typeof s === "string" ? Buffer.from(s, "utf8") : Buffer.from(s));

describe("parseJsonBody", () => {
  test("reads a UTF-8 JSON object; a duplicate key keeps the last value, as Python reads it", () => {
    expect(parseJsonBody(bytes('{"user_id":"a","user_id":"b","n":1.5}'))).toEqual({
      ok: true,
      value: { user_id: "b", n: 1.5 },
      exact: true,
    });
  });

  test("says when writing the body afresh would round an integer beyond 2^53", () => {
    expect(parseJsonBody(bytes('{"start_time":12345678901234567890}'))).toMatchObject({ ok: true, exact: false });
    expect(parseJsonBody(bytes('{"start_time":9007199254740991}'))).toMatchObject({ ok: true, exact: true });
  });

  test.each([
    ["not UTF-8", bytes(new Uint8Array([0x7b, 0xff, 0x7d])), "not-utf8"],
    ["a BOM", bytes("\ufeff{}"), "not-json"],
    ["UTF-16", Buffer.from('{"a":1}', "utf16le"), "not-json"],
    ["truncated JSON", bytes('{"a":'), "not-json"],
    ["NaN", bytes('{"a":NaN}'), "not-json"],
    ["a string (MLflow decodes it twice)", bytes('"{\\"user_id\\":\\"x\\"}"'), "not-an-object"],
    ["a list", bytes("[]"), "not-an-object"],
    ["an overflow", bytes('{"max_results":1e400}'), "non-finite-number"],
  ])("refuses %s", (_what, body, problem) => {
    expect(parseJsonBody(body)).toEqual({ ok: false, problem });
  });

  test("serialises afresh", () => {
    expect(serializeJsonBody({ a: [1, "x"], b: null }).toString()).toBe('{"a":[1,"x"],"b":null}');
  });
});

describe("hasUnsafeIntegerLiteral", () => {
  test.each([
    ['{"a":9007199254740991}', false],
    ['{"a":-9007199254740991}', false],
    ['{"a":9007199254740993}', true],
    ['{"a":-12345678901234567890}', true],
    ['{"a":1e300,"b":1.2345678901234567890123}', false],
    ['{"a":"12345678901234567890"}', false],
    ['{"12345678901234567890":"x\\"12345678901234567890"}', false],
    ['[1, 2, [3, {"b": 123456789012345678901234567890}]]', true],
  ])("%s: %s", (text, unsafe) => {
    expect(hasUnsafeIntegerLiteral(text)).toBe(unsafe);
  });

  test("agrees, on random JSON, with whether a number JSON.stringify writes as an integer is unsafe", () => {
    const unsafeIn = (v: unknown): boolean =>
      typeof v === "number"
        ? /^-?\d+$/.test(JSON.stringify(v)) && !Number.isSafeInteger(v)
        : Array.isArray(v)
          ? v.some(unsafeIn)
          : typeof v === "object" && v !== null
            ? Object.values(v).some(unsafeIn)
            : false;
    fc.assert(
      fc.property(fc.jsonValue(), fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }), (value, big) => {
        const text = `[${JSON.stringify(value)},{"n":${big}}]`;
        expect(hasUnsafeIntegerLiteral(text)).toBe(unsafeIn(value) || !Number.isSafeInteger(Number(big)));
      }),
      { numRuns: 500, seed: 5 },
    );
  });
});

describe("readListOfObjects and writeObject", () => {
  test("keep every member's text as written", () => {
    const members = readListOfObjects(' [ { "a" : 1.0 , "b\\u0022" : ["}", {"c": null}] } , {} ] ');
    expect(members).toEqual([
      [
        { key: "a", valueText: "1.0" },
        { key: 'b"', valueText: '["}", {"c": null}]' },
      ],
      [],
    ]);
    expect(writeObject(members![0]!)).toBe('{"a":1.0,"b\\"":["}", {"c": null}]}');
  });

  test("refuse what is not a list of objects", () => {
    for (const text of ["{", "{}", "[1]", '[{"a":1},2]', "[]x"]) expect(readListOfObjects(text)).toBeUndefined();
    expect(readListOfObjects("[]")).toEqual([]);
  });

  test("rewriting every object from its members reads back the same, on random lists (any indentation)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.dictionary(fc.string(), fc.jsonValue())),
        fc.constantFrom(0, 1, 4, "\t", " \n "),
        (list, indent) => {
          const text = JSON.stringify(list, null, indent);
          const members = readListOfObjects(text);
          expect(members).toBeDefined();
          expect(JSON.parse(`[${members!.map(writeObject).join(",")}]`)).toEqual(JSON.parse(text));
        },
      ),
      { numRuns: 300, seed: 11 },
    );
  });
});

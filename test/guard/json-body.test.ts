import { parseJsonBody, serializeJsonBody } from "../../guard/json-body";

const bytes = (s: string | Uint8Array) => (typeof s === "string" ? Buffer.from(s, "utf8") : Buffer.from(s));

describe("parseJsonBody", () => {
  test("reads a UTF-8 JSON object; a duplicate key keeps the last value, as Python reads it", () => {
    expect(parseJsonBody(bytes('{"user_id":"a","user_id":"b","n":1.5}'))).toEqual({
      ok: true,
      value: { user_id: "b", n: 1.5 },
    });
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

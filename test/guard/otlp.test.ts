import { deflateSync, gzipSync } from "zlib";
import { checkOtlpExport } from "../../guard/otlp";

const MAX = 1024 * 1024;
// A protobuf string field holding the attribute key (tag 1, wire type 2, length, bytes), as OTLP encodes it.
const protoString = (s: string) => Buffer.concat([Buffer.from([0x0a, s.length]), Buffer.from(s)]);

describe("checkOtlpExport", () => {
  test("an export without reserved trace tags passes, in every encoding", () => {
    const body = protoString("mlflow.traceTag.team");
    expect(checkOtlpExport(body, "application/x-protobuf", undefined, MAX)).toBeUndefined();
    expect(checkOtlpExport(gzipSync(body), "application/x-protobuf", "gzip", MAX)).toBeUndefined();
    expect(checkOtlpExport(deflateSync(body), "application/x-protobuf", "deflate", MAX)).toBeUndefined();
  });

  test("a reserved trace tag is found in protobuf, compressed protobuf and escaped JSON", () => {
    const key = "mlflow.traceTag.mlflow.user";
    expect(checkOtlpExport(protoString(key), "application/x-protobuf", undefined, MAX)).toBe("otlp-reserved-tag");
    expect(checkOtlpExport(gzipSync(protoString(key)), "application/x-protobuf", "GZIP", MAX)).toBe(
      "otlp-reserved-tag",
    );
    const escaped = Buffer.from('{"resourceSpans":[{"k":"mlflow.traceTag.\\u006dlflow.user"}]}');
    expect(checkOtlpExport(escaped, "application/json", undefined, MAX)).toBe("otlp-reserved-tag");
  });

  test("an unknown or broken encoding, and a bomb past the limit, are refused", () => {
    expect(checkOtlpExport(Buffer.from("x"), "application/x-protobuf", "br", MAX)).toBe("otlp-encoding");
    expect(checkOtlpExport(Buffer.from("not gzip"), "application/x-protobuf", "gzip", MAX)).toBe("otlp-encoding");
    expect(checkOtlpExport(gzipSync(Buffer.alloc(2 * MAX)), "application/x-protobuf", "gzip", MAX)).toBe(
      "otlp-too-large",
    );
    expect(checkOtlpExport(Buffer.from("{"), "application/json", undefined, MAX)).toBe("otlp-not-json");
  });
});

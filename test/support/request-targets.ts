// Generated request targets for property tests: what attackers and encoders put in a path.
import fc from "fast-check";

/** Pieces attackers and encoders produce: separators, dot segments in every spelling, encoded bytes. */
const PIECES = [
  "api",
  "ajax-api",
  "2.0",
  "3.0",
  "mlflow",
  "experiments",
  "delete",
  "runs",
  "static-files",
  "graphql",
  "",
  ".",
  "..",
  "%2e",
  "%2E",
  "%2e%2e",
  ".%2e",
  "%2F",
  "%2f",
  "%252F",
  "%5C",
  "%5c",
  "\\",
  "%00",
  "%20",
  "%09",
  ";",
  ";x=1",
  "%3B",
  "%3F",
  "?",
  "#",
  "%23",
  "%25",
  "%",
  "%zz",
  "%c0%ae",
  "%e2%80%ae",
  "%ff",
  "%41",
  "%C3%A9",
  "~",
  "+",
  "%2B",
  "*",
  "@",
  ":",
];
export const ASCII_PRINTABLE = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 12,
});
const segment = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...PIECES) },
  { weight: 1, arbitrary: ASCII_PRINTABLE },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }).map((s) => encodeURIComponent(s)) },
);
/** A request target: one to seven segments of pieces, printable ASCII or encoded text, maybe a query. */
export const target = fc
  .tuple(
    fc.array(
      fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join("")),
      { minLength: 1, maxLength: 7 },
    ),
    fc.option(ASCII_PRINTABLE, { nil: undefined }),
  )
  .map(([segments, query]) => `/${segments.join("/")}${query === undefined ? "" : `?${query}`}`);

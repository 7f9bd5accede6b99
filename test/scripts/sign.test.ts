import { runCli } from "./support/run-cli";

// The sign command's command line; sending is tested against the real gateway in test/integration/sign.test.ts.

describe("mlflow-gate sign: command line", () => {
  test.each([
    [["sign"], "sign needs a URL"],
    [["sign", "http://127.0.0.1/a", "http://127.0.0.1/b"], 'unexpected argument "http://127.0.0.1/b"'],
    [["sign", "-X", "GE T", "http://127.0.0.1/a"], '-X "GE T" is not an HTTP method'],
    [
      ["sign", "-H", "Authorization: AWS4-HMAC-SHA256 x", "http://127.0.0.1/a"],
      'header "Authorization" is set by the signer or the transport; leave it out',
    ],
    [["sign", "-d", "@", "http://127.0.0.1/a"], "-d @ needs a file name (or @- for stdin)"],
    [
      ["sign", "h/a"],
      '"h/a" is not a URL (like https://abc123.execute-api.eu-west-1.amazonaws.com/prod/api/2.0/mlflow/experiments/search)',
    ],
    [["sign", "--group", "readers", "http://127.0.0.1/a"], 'option --group does not apply to "sign"'],
    [["sign", "-d"], "Option '-d, --data <value>' argument missing"],
  ])("%j exits 2 with one line", async (argv, message) => {
    // Act
    const r = await runCli(argv);
    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`mlflow-gate: ${message}; run "mlflow-gate --help"\n`);
    expect(r.stdout).toBe("");
  });

  test("-d @file that cannot be read: exit 1 naming the file", async () => {
    // Act
    const r = await runCli(["sign", "--region", "us-east-1", "-d", "@/nonexistent/body.json", "http://127.0.0.1:1/a"]);
    // Assess
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("mlflow-gate: cannot read /nonexistent/body.json (ENOENT)\n");
  });
});

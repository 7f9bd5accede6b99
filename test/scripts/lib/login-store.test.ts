import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { forgetLogin, loginsFileOf, saveLogin, StoredLogin, storedLogin } from "../../../scripts/lib/login-store";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "mlflow-gate-logins-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const login = (clientId: string, username = "reader"): StoredLogin => ({
  username,
  userPoolId: "eu-west-1_AbC123",
  clientId,
  region: "eu-west-1",
  refreshToken: `refresh-${clientId}`,
  savedAt: "2026-12-06T00:00:00.000Z",
});

describe("the login store", () => {
  test("lives in XDG_CONFIG_HOME, else ~/.config", () => {
    // Act / Assess
    expect(loginsFileOf({ XDG_CONFIG_HOME: "/x", HOME: "/h" })).toBe("/x/mlflow-gate/logins.json");
    expect(loginsFileOf({ HOME: "/h" })).toBe("/h/.config/mlflow-gate/logins.json");
  });

  test("keeps one sign-in per app client, in a 0600 file of a 0700 directory; forgetting removes only that one", () => {
    // Prepare
    const file = loginsFileOf({ XDG_CONFIG_HOME: dir });
    // Act
    saveLogin(file, login("a"));
    saveLogin(file, login("b"));
    saveLogin(file, login("a", "admin"));
    const forgotten = forgetLogin(file, "b");
    // Assess
    expect(storedLogin(file, "a")).toEqual(login("a", "admin"));
    expect(forgotten).toEqual(login("b"));
    expect(storedLogin(file, "b")).toBeUndefined();
    expect(forgetLogin(file, "b")).toBeUndefined();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "mlflow-gate")).mode & 0o777).toBe(0o700);
    expect(Object.keys(JSON.parse(readFileSync(file, "utf8")).logins)).toEqual(["a"]);
  });

  test("a file that is not the store's is one clear line, and is not overwritten", () => {
    // Prepare
    const file = loginsFileOf({ XDG_CONFIG_HOME: dir });
    saveLogin(file, login("a"));
    writeFileSync(file, "{ not json");
    // Act / Assess
    expect(() => saveLogin(file, login("b"))).toThrow(/logins\.json is not JSON .*: remove it and sign in again/);
    expect(readFileSync(file, "utf8")).toBe("{ not json");
  });
});

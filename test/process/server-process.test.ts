// The compiled server as an operator runs it (`node dist/src/main.js`, what `npm start` runs), in child
// processes: graceful shutdown under load (DOMAIN §10), a busy port, the embedded data directory's lock, and
// the event loop staying free while the embedded database works. On TEST_DATABASE_URL's PostgreSQL when set,
// else on an embedded database in a temporary directory.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, onPostgres, type TestDatabase } from "../support/database.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const OPERATOR_TOKEN = "process-test-operator-token-0123456789";
const tmpDirs: string[] = [];
const children: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function tmpDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "roster-process-"));
  tmpDirs.push(dir);
  return dir;
}

interface Started {
  child: ChildProcess;
  url: string;
  port: number;
  output: () => string;
  exited: Promise<number | null>;
}

function spawnServer(env: Record<string, string>, args: string[] = ["dist/src/main.js"]): Started {
  const port = Number(env.PORT);
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      HOST: "127.0.0.1",
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      LOG_LEVEL: "info",
      DEMO: "false",
      ROSTER_OPERATOR_TOKEN: OPERATOR_TOKEN,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, url: `http://127.0.0.1:${port}`, port, output: () => output, exited };
}

async function ready(server: Started): Promise<void> {
  for (let i = 0; i < 240; i++) {
    if (server.child.exitCode !== null)
      throw new Error(`server exited with ${server.child.exitCode}:\n${server.output()}`);
    const ok = await fetch(`${server.url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`server did not become ready:\n${server.output()}`);
}

async function createOrg(server: Started): Promise<string> {
  const res = await fetch(`${server.url}/api/v1/orgs`, {
    method: "POST",
    headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "Process test", plan: "enterprise_usage", seats: { chat_code: 20, chat: 50 } }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { scimToken: string }).scimToken;
}

interface Reply {
  status: number;
  connection: string | undefined;
  body: string;
}

/** One request on the given agent; resolves with the reply or rejects with the socket error (ECONNRESET…). */
function request(agent: http.Agent, url: string, method: string, token: string, body?: unknown): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          ...(payload ? { "content-type": "application/scim+json", "content-length": Buffer.byteLength(payload) } : {}),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: text }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

function bulkOfUsers(count: number, prefix: string) {
  return {
    schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
    Operations: Array.from({ length: count }, (_, i) => ({
      method: "POST",
      path: "/Users",
      bulkId: `u${i}`,
      data: {
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
        userName: `${prefix}${i}@example.com`,
        active: true,
      },
    })),
  };
}

async function countUsers(server: Started, token: string, prefix: string): Promise<number> {
  const filter = encodeURIComponent(`userName sw "${prefix}"`);
  const res = await fetch(`${server.url}/scim/v2/Users?filter=${filter}&count=1`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return ((await res.json()) as { totalResults: number }).totalResults;
}

let tdb: TestDatabase | null = null;

/** Where a server keeps its data: a fresh PostgreSQL database when testing on PostgreSQL, else a data dir. */
async function databaseEnv(): Promise<Record<string, string>> {
  if (onPostgres) {
    tdb = await createTestDatabase();
    return { DATABASE_URL: tdb.url as string };
  }
  return { DATA_DIR: tmpDir() };
}

beforeAll(() => {
  // What `npm start` does first: compile when dist/ is older than the sources.
  execFileSync(process.execPath, ["scripts/build-if-stale.mjs"], { cwd: ROOT, stdio: "inherit" });
}, 180_000);

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
    }
  }
  await tdb?.destroy();
  tdb = null;
});

afterAll(() => {
  for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
});

describe("stopping (SIGTERM)", () => {
  it("answers a Bulk in flight and every keep-alive request accepted, then exits 0", async () => {
    const env = { PORT: String(await freePort()), ...(await databaseEnv()) };
    const server = spawnServer(env);
    await ready(server);
    const token = await createOrg(server);

    const bulkAgent = new http.Agent({ keepAlive: true });
    const bulk = request(bulkAgent, `${server.url}/scim/v2/Bulk`, "POST", token, bulkOfUsers(300, "bulk"));

    // Four keep-alive clients, each sending its next request as soon as the last is answered, until the
    // server says `Connection: close`.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    let signalled = false;
    const replies: { reply: Reply; sentAfterSignal: boolean }[] = [];
    const failures: { error: string; sentAfterSignal: boolean }[] = [];
    const client = async () => {
      for (;;) {
        const sentAfterSignal = signalled;
        try {
          const reply = await request(agent, `${server.url}/scim/v2/Users?count=1`, "GET", token);
          replies.push({ reply, sentAfterSignal });
          if (reply.connection === "close") return;
        } catch (error) {
          failures.push({ error: (error as NodeJS.ErrnoException).code ?? String(error), sentAfterSignal });
          return;
        }
      }
    };
    const clients = Promise.all([client(), client(), client(), client()]);

    // Let the Bulk start writing, then stop the server.
    await new Promise((r) => setTimeout(r, 400));
    signalled = true;
    server.child.kill("SIGTERM");

    const bulkReply = await bulk;
    await clients;
    expect(await server.exited).toBe(0);

    expect(bulkReply.status).toBe(200);
    const results = (JSON.parse(bulkReply.body) as { Operations: { status: string }[] }).Operations;
    expect(results).toHaveLength(300);
    expect(results.every((r) => r.status === "201")).toBe(true);
    expect(bulkReply.connection).toBe("close");
    // The Bulk really was in flight when the signal came.
    const inFlight = Number(/"inFlight":(\d+),"msg":"shutting down/.exec(server.output())?.[1]);
    expect(inFlight).toBeGreaterThanOrEqual(1);
    expect(failures).toEqual([]);
    expect(replies.every(({ reply }) => reply.status === 200)).toBe(true);
    // Every client was told to go elsewhere.
    expect(replies.filter(({ reply }) => reply.connection === "close")).toHaveLength(4);

    // Nothing was lost: all 300 users are there after a restart.
    const again = spawnServer(env);
    await ready(again);
    expect(await countUsers(again, token, "bulk")).toBe(300);
  }, 120_000);
});

describe("npm start", () => {
  it("passes SIGTERM to Roster, which stops cleanly (no orphan left serving)", async () => {
    const port = String(await freePort());
    const server = spawnServer({ PORT: port, ...(await databaseEnv()) }, [
      path.join(path.dirname(process.execPath), "npm"),
      "start",
    ]);
    await ready(server);
    // The build carried the console's static files beside the compiled modules.
    expect((await fetch(`${server.url}/admin/assets/console.css`)).status).toBe(200);
    server.child.kill("SIGTERM");
    await server.exited;
    // Roster itself logged its shutdown, and nothing listens on the port any more.
    for (let i = 0; i < 40 && !/"msg":"stopped"/.test(server.output()); i++)
      await new Promise((r) => setTimeout(r, 250));
    expect(server.output()).toMatch(/"msg":"stopped"/);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  }, 120_000);
});

describe.skipIf(!onPostgres)("WORKERS=2 (PostgreSQL)", () => {
  it("serves from two processes sharing the port and stops both on SIGTERM", async () => {
    const server = spawnServer({ PORT: String(await freePort()), WORKERS: "2", ...(await databaseEnv()) });
    await ready(server);
    for (let i = 0; i < 40 && (server.output().match(/roster listening/g) ?? []).length < 2; i++)
      await new Promise((r) => setTimeout(r, 250));
    expect(server.output().match(/roster listening/g)).toHaveLength(2);
    const token = await createOrg(server);
    expect(await countUsers(server, token, "nobody")).toBe(0);
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(server.output().match(/"msg":"stopped"/g)).toHaveLength(2);
    expect(server.output()).toMatch(/all server processes stopped/);
  }, 120_000);
});

describe("starting", () => {
  it("refuses a busy port: exits non-zero naming the port", async () => {
    const port = await freePort();
    const squatter = net.createServer().listen(port, "127.0.0.1");
    await new Promise((r) => squatter.once("listening", r));
    try {
      const server = spawnServer({ PORT: String(port), ...(await databaseEnv()) });
      expect(await server.exited).toBe(1);
      expect(server.output()).toMatch(new RegExp(`port ${port} is already in use`));
      expect(server.output()).not.toMatch(/roster listening/);
    } finally {
      squatter.close();
    }
  }, 60_000);

  it("WORKERS above 1 on the embedded database is refused with what to do", async () => {
    const server = spawnServer({ PORT: String(await freePort()), DATA_DIR: tmpDir(), WORKERS: "2" });
    expect(await server.exited).toBe(1);
    expect(server.output()).toMatch(/WORKERS=2 needs DATABASE_URL/);
  }, 60_000);
});

describe("the embedded database's directory is locked to one process", () => {
  it("refuses a second server and the CLI while a server runs, naming its pid", async () => {
    const dataDir = tmpDir();
    const first = spawnServer({ PORT: String(await freePort()), DATA_DIR: dataDir });
    await ready(first);

    const second = spawnServer({ PORT: String(await freePort()), DATA_DIR: dataDir });
    expect(await second.exited).toBe(1);
    expect(second.output()).toMatch(new RegExp(`in use by process ${first.child.pid}`));
    expect(second.output()).toMatch(/DATABASE_URL/);

    const cli = spawnServer({ PORT: String(await freePort()), DATA_DIR: dataDir }, [
      "dist/src/cli/roster.js",
      "migrate",
    ]);
    expect(await cli.exited).not.toBe(0);
    expect(cli.output()).toMatch(new RegExp(`in use by process ${first.child.pid}`));

    // The first server is unharmed.
    const health = await fetch(`${first.url}/readyz`).then(
      (r) => r.status,
      (error: Error) => `${error.message}\n${first.output()}`,
    );
    expect(health).toBe(200);
  }, 120_000);

  it("takes over a lock left by a process that no longer runs", async () => {
    const dataDir = tmpDir();
    const dead = spawn(process.execPath, ["-e", ""]);
    await new Promise((r) => dead.once("exit", r));
    writeFileSync(path.join(dataDir, "roster.lock"), `${dead.pid}\n`);
    const server = spawnServer({ PORT: String(await freePort()), DATA_DIR: dataDir });
    await ready(server);
  }, 120_000);
});

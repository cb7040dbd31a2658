// Replays what Microsoft Entra ID and Okta actually send (test/fixtures/idp-requests/*.json) against the
// real app over HTTP, one fresh org per file, and checks each step's status and the state it leaves
// behind (the response, and GETs made after the step). Steps run in order and share the ids they save.
//
// A fixture file: { idp, about, seats?, mappings?, steps: Step[] }. A step:
//   name, method, path (under /scim/v2, written unencoded as the IdP means it), body?, expectStatus,
//   then?: { save?: {var: "path.in.response"}, response?: partial body, absent?: paths not in the response,
//            checks?: [{ get, status? (200), expect?: partial body, members?: exact member ids, absent? }] }
// "{{var}}" anywhere in a path, body or expectation is replaced by a saved value.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Express } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { makeOrg, seatLedger, setPurchased, type TestOrg, testDeps } from "../support/factories.js";
import { adminClient } from "./helpers.js";

interface Check {
  get: string;
  status?: number;
  expect?: Record<string, unknown>;
  members?: string[];
  absent?: string[];
}

interface Step {
  name: string;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  body?: unknown;
  expectStatus: number;
  then?: { save?: Record<string, string>; response?: Record<string, unknown>; absent?: string[]; checks?: Check[] };
}

interface FixtureFile {
  idp: string;
  about: string;
  seats?: Record<string, number>;
  mappings?: { group: string; seatType?: string; role?: string; priority: number }[];
  steps: Step[];
}

const FIXTURES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/idp-requests");
const SEAT = "urn:roster:params:scim:schemas:extension:seat:2.0:User";

function loadFixture(file: string): FixtureFile {
  const parsed = JSON.parse(readFileSync(path.join(FIXTURES_DIR, file), "utf8")) as FixtureFile;
  // A malformed fixture should fail loudly here, not as a confusing replay failure.
  if (typeof parsed.idp !== "string" || !Array.isArray(parsed.steps) || parsed.steps.length === 0)
    throw new Error(`${file}: needs idp and steps`);
  for (const step of parsed.steps) {
    if (!step.name || !step.method || !step.path?.startsWith("/") || typeof step.expectStatus !== "number")
      throw new Error(`${file}: malformed step ${JSON.stringify(step).slice(0, 200)}`);
  }
  const names = parsed.steps.map((s) => s.name);
  if (new Set(names).size !== names.length) throw new Error(`${file}: step names must be unique`);
  return parsed;
}

/** Replaces "{{var}}" in every string of a JSON value. */
function fill<T>(value: T, vars: Map<string, string>): T {
  if (typeof value === "string") {
    return value.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
      const found = vars.get(name);
      if (found === undefined) throw new Error(`fixture refers to {{${name}}} before a step saved it`);
      return found;
    }) as T;
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, vars)) as T;
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, vars)])) as T;
  return value;
}

/** The value at a dotted path; keys may contain dots themselves (schema URNs such as "…:2.0:User"). */
function at(body: unknown, dotted: string): unknown {
  if (dotted === "") return body;
  if (!body || typeof body !== "object") return undefined;
  const key = Object.keys(body)
    .filter((k) => dotted === k || dotted.startsWith(`${k}.`))
    .sort((a, b) => b.length - a.length)[0];
  return key === undefined ? undefined : at((body as Record<string, unknown>)[key], dotted.slice(key.length + 1));
}

const files = readdirSync(FIXTURES_DIR)
  .filter((f) => f.endsWith(".json"))
  .sort();

let tdb: TestDatabase;
let app: Express;

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
});
afterAll(async () => tdb?.destroy());

it("has a fixture file for Entra and for Okta", () => {
  expect(files).toEqual(expect.arrayContaining(["entra.json", "okta.json"]));
});

for (const file of files) {
  const fixture = loadFixture(file);

  describe(`${fixture.idp} (${file})`, () => {
    let org: TestOrg;
    const vars = new Map<string, string>();

    const scim = (method: string, rawPath: string, body?: unknown) => {
      // The IdP sends the filter URL-encoded; the fixture keeps it readable.
      const url = `/scim/v2${encodeURI(fill(rawPath, vars))}`;
      const r = request(app)
        [method.toLowerCase() as "get"](url)
        .set("Authorization", `Bearer ${org.scimToken}`)
        .set("Accept", "application/scim+json");
      return body === undefined
        ? r
        : r.set("Content-Type", "application/scim+json").send(JSON.stringify(fill(body, vars)));
    };

    beforeAll(async () => {
      org = await makeOrg(testDeps(tdb.db), { name: `${fixture.idp} replay` });
      for (const [seatType, purchased] of Object.entries(fixture.seats ?? {}))
        await setPurchased(tdb.db, org.org.id, seatType, purchased);
      if (fixture.mappings) {
        const res = await adminClient(app, org.org.id, org.ownerToken).put("group-mappings", fixture.mappings);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      }
    });

    for (const step of fixture.steps) {
      it(step.name, async () => {
        const res = await scim(step.method, step.path, step.body);
        expect(res.status, `${step.method} ${step.path} answered ${JSON.stringify(res.body)}`).toBe(step.expectStatus);
        if (res.status >= 400) expect(res.body.schemas).toEqual(["urn:ietf:params:scim:api:messages:2.0:Error"]);
        if (res.status === 201)
          expect(res.headers.location).toBe(`http://roster.test/scim/v2${step.path.split("?")[0]}/${res.body.id}`);
        const then = step.then;
        if (!then) return;
        for (const [name, dotted] of Object.entries(then.save ?? {})) {
          const value = at(res.body, dotted);
          expect(typeof value, `${dotted} in the response`).toBe("string");
          vars.set(name, value as string);
        }
        if (then.response) expect(res.body).toMatchObject(fill(then.response, vars));
        for (const dotted of then.absent ?? [])
          expect(at(res.body, dotted), `${dotted} should not be in the response`).toBeUndefined();
        for (const check of then.checks ?? []) {
          const got = await scim("GET", check.get);
          expect(got.status, `GET ${check.get} answered ${JSON.stringify(got.body)}`).toBe(check.status ?? 200);
          if (check.expect) expect(got.body).toMatchObject(fill(check.expect, vars));
          if (check.members) {
            const values = ((got.body.members ?? []) as { value: string }[]).map((m) => m.value).sort();
            expect(values).toEqual(fill(check.members, vars).sort());
          }
          for (const dotted of check.absent ?? [])
            expect(at(got.body, dotted), `${dotted} should not be in GET ${check.get}`).toBeUndefined();
        }
      });
    }

    it("leaves the seat counters in agreement with the members holding seats", async () => {
      const ledger = await seatLedger(tdb.db, org.org.id);
      for (const [seatType, row] of Object.entries(ledger)) {
        expect(row.used, seatType).toBe(row.holders);
        expect(row.used, seatType).toBeLessThanOrEqual(row.purchased);
      }
      // Every user the IdP still has is one member: no duplicates from lookups, PUTs or re-activations.
      const users = await scim("GET", "/Users?count=1000");
      const names = (users.body.Resources as { userName: string }[]).map((u) => u.userName.toLowerCase());
      expect(new Set(names).size).toBe(names.length);
      expect(
        users.body.Resources.every(
          (u: Record<string, unknown>) => typeof (u[SEAT] as { seatType?: unknown })?.seatType === "string",
        ),
      ).toBe(true);
    });
  });
}

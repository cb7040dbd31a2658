// SAML single sign-on end to end (DOMAIN §3 and §7, CONTRACT "SAML"): SP- and IdP-initiated sign-in through
// the real ACS with responses the test IdP really signs, just-in-time provisioning through the one seat
// allocator, the same person arriving over SCIM and SAML, the attribute profiles, who may sign in, and what
// reaches the log. Real app over a real database; nothing is mocked.
import type { Express } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.js";
import { createSessionCodec } from "../../src/http/session.js";
import { OPERATOR_TOKEN, testApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { setPurchased, testDeps } from "../support/factories.js";
import { IDP_SSO_URL } from "../support/test-idp.js";
import { type AdminClient, adminClient, createOrgViaApi, ownerIdOf } from "./helpers.js";
import {
  configureSaml,
  me,
  postAcs,
  responseFor,
  type SamlSettings,
  signIn,
  signInOk,
  spUrls,
  startLogin,
} from "./saml-flow-helpers.js";
import { createGroup, createUser, patchBody, scimClient } from "./scim-helpers.js";

let tdb: TestDatabase;
let app: Express;

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = testApp(tdb.db);
});
afterAll(async () => tdb?.destroy());

interface Fixture {
  orgId: string;
  owner: AdminClient;
  ownerId: string;
  scimToken: string;
  ownerToken: string;
}

/** An org (10 chat_code + 10 chat unless told) with the test IdP configured over the admin API. */
async function newOrg(
  saml: SamlSettings = {},
  body: Record<string, unknown> = {},
  onApp: Express = app,
): Promise<Fixture> {
  const created = await createOrgViaApi(onApp, body);
  const owner = adminClient(onApp, created.orgId, created.ownerToken);
  await configureSaml(owner, saml);
  return {
    orgId: created.orgId,
    owner,
    ownerId: await ownerIdOf(owner),
    scimToken: created.scimToken,
    ownerToken: created.ownerToken,
  };
}

async function putMappings(f: Fixture, mappings: Record<string, unknown>[]): Promise<void> {
  const res = await f.owner.put("group-mappings", mappings);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

type MemberBody = {
  id: string;
  email: string;
  userName: string;
  role: string;
  seatType: string;
  seatStatus: string;
  seatReason: string;
  waitingFor: string | null;
  active: boolean;
  name: { givenName: string | null; familyName: string | null };
  displayName: string | null;
  source: string;
};

/** The members whose email contains `q` (the admin API's search). */
async function membersMatching(f: Fixture, q: string): Promise<MemberBody[]> {
  const res = await f.owner.get(`members?q=${encodeURIComponent(q)}`);
  expect(res.status).toBe(200);
  return res.body.items;
}

async function memberByEmail(f: Fixture, email: string): Promise<MemberBody> {
  const found = await membersMatching(f, email);
  expect(found, `one member with ${email}`).toHaveLength(1);
  return found[0];
}

type AuditItem = {
  actor: string;
  action: string;
  memberId: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  reason: string | null;
  at: string;
};
async function auditOf(f: Fixture, memberId: string): Promise<AuditItem[]> {
  const res = await f.owner.get(`audit-events?memberId=${memberId}&limit=500`);
  expect(res.status).toBe(200);
  // Oldest first, to read as a history.
  return [...(res.body.items as AuditItem[])].reverse();
}

async function seatsUsed(f: Fixture): Promise<Record<string, number>> {
  const res = await f.owner.get("seats");
  return Object.fromEntries(res.body.seatTypes.map((s: { type: string; used: number }) => [s.type, s.used]));
}

describe("SP-initiated sign-in", () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await newOrg();
  });

  it("GET login redirects (302) to the IdP's SSO URL with a deflated AuthnRequest and returnTo as RelayState", async () => {
    const login = await startLogin(app, f.orgId, "?returnTo=/me");
    expect(`${login.location.origin}${login.location.pathname}`).toBe(IDP_SSO_URL);
    expect(login.relayState).toBe("/me");
    expect(login.requestId).toMatch(/^[A-Za-z_][\w.-]*$/);
    const urls = spUrls(f.orgId);
    expect(login.requestXml).toContain(`Destination="${IDP_SSO_URL}"`);
    expect(login.requestXml).toContain(`AssertionConsumerServiceURL="${urls.acsUrl}"`);
    expect(login.requestXml).toContain(`>${urls.spEntityId}</saml:Issuer>`);
    // Starting a sign-in signs nobody in.
    expect(login.res.headers["set-cookie"]).toBeUndefined();
    // Each login starts a new request.
    expect((await startLogin(app, f.orgId)).requestId).not.toBe(login.requestId);
  });

  it("a signed response to that request signs the person in: 303 to the RelayState path, HttpOnly session cookie", async () => {
    const login = await startLogin(app, f.orgId, `?returnTo=${encodeURIComponent("/me?tab=seat")}`);
    const { samlResponse } = await responseFor(f.orgId, {
      nameId: "ada@acme.example",
      attributes: { email: "ada@acme.example" },
      inResponseTo: login.requestId,
    });
    const res = await postAcs(app, f.orgId, samlResponse, login.relayState);
    expect(res.status, res.text).toBe(303);
    expect(res.headers.location).toBe("/me?tab=seat");
    const setCookie = (res.headers["set-cookie"] as unknown as string[]).find((c) => c.startsWith("roster_session="));
    expect(setCookie).toBeDefined();
    expect(setCookie).toMatch(/;\s*HttpOnly/i);
    expect(setCookie).toMatch(/;\s*SameSite=Lax/i);
    expect(setCookie).toMatch(/;\s*Path=\//i);
    const cookie = (setCookie as string).split(";")[0];
    const body = (await me(app, cookie)).body;
    expect(body).toMatchObject({
      email: "ada@acme.example",
      orgId: f.orgId,
      role: "member",
      seatType: "chat_code",
      seatStatus: "claimed",
      groups: [],
    });
    const page = await request(app).get("/me").set("Cookie", cookie);
    expect(page.status).toBe(200);
    expect(page.text).toContain("ada@acme.example");
    expect(page.text).toContain("Chat + Claude Code");
  });

  it("the same request id cannot be used twice, even with a fresh assertion", async () => {
    const login = await startLogin(app, f.orgId);
    const first = await responseFor(f.orgId, {
      nameId: "bob@acme.example",
      attributes: { email: "bob@acme.example" },
      inResponseTo: login.requestId,
    });
    expect((await postAcs(app, f.orgId, first.samlResponse, login.relayState)).status).toBe(303);
    const second = await responseFor(f.orgId, {
      nameId: "bob@acme.example",
      attributes: { email: "bob@acme.example" },
      inResponseTo: login.requestId,
    });
    const res = await postAcs(app, f.orgId, second.samlResponse, login.relayState);
    expect(res.status).toBe(401);
    expect(res.headers["set-cookie"]).toBeUndefined();
  });

  it("a response to a request Roster never sent is refused, and nobody is provisioned", async () => {
    const { samlResponse } = await responseFor(f.orgId, {
      nameId: "nobody@acme.example",
      attributes: { email: "nobody@acme.example" },
      inResponseTo: "_never_issued_by_roster",
    });
    const res = await postAcs(app, f.orgId, samlResponse);
    expect(res.status).toBe(401);
    expect(res.headers["set-cookie"]).toBeUndefined();
    expect(await membersMatching(f, "nobody@acme.example")).toEqual([]);
  });

  it.each([
    ["absolute", "https://evil.example/phish"],
    ["protocol-relative", "//evil.example"],
    ["with a backslash", "/\\evil.example"],
    ["all backslashes", "\\\\evil.example"],
    ["javascript:", "javascript:alert(1)"],
    ["not starting with /", "me"],
    ["with a control character", "/me\r\nSet-Cookie: x=1"],
  ])("returnTo %s falls back to /me, both in the RelayState sent and after sign-in", async (_name, returnTo) => {
    const login = await startLogin(app, f.orgId, `?returnTo=${encodeURIComponent(returnTo)}`);
    expect(login.relayState).toBe("/me");
    const { samlResponse } = await responseFor(f.orgId, {
      nameId: "carol@acme.example",
      attributes: { email: "carol@acme.example" },
      inResponseTo: login.requestId,
    });
    const res = await postAcs(app, f.orgId, samlResponse, login.relayState);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/me");
  });

  it.each([
    ["alone", "?RelayState=https%3A%2F%2Fevil.example", "/me"],
    ["next to returnTo", "?returnTo=%2Freports&RelayState=%2F%2Fevil.example", "/reports"],
    ["that looks safe", "?RelayState=%2Fsomewhere-else", "/me"],
  ])("a RelayState query parameter on login (%s) is never passed through as-is", async (_name, query, expected) => {
    const login = await startLogin(app, f.orgId, query);
    expect(login.relayState).toBe(expected);
  });

  it("a RelayState posted to the ACS that is not a relative path is not followed", async () => {
    for (const relayState of ["https://evil.example", "//evil.example", "/\\evil.example"]) {
      const login = await startLogin(app, f.orgId);
      const { samlResponse } = await responseFor(f.orgId, {
        nameId: "dave@acme.example",
        attributes: { email: "dave@acme.example" },
        inResponseTo: login.requestId,
      });
      const res = await postAcs(app, f.orgId, samlResponse, relayState);
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe("/me");
    }
  });

  it("a session from one org's ACS reads that org in /api/v1/me; another org's IdP cannot sign into it", async () => {
    const other = await newOrg();
    // A response for org A's SP posted to org B's ACS: wrong audience and destination.
    const login = await startLogin(app, f.orgId);
    const { samlResponse } = await responseFor(f.orgId, {
      nameId: "erin@acme.example",
      attributes: { email: "erin@acme.example" },
      inResponseTo: login.requestId,
    });
    expect((await postAcs(app, other.orgId, samlResponse)).status).toBe(401);
    expect(await membersMatching(other, "erin@acme.example")).toEqual([]);
  });

  it("without a session, /api/v1/me is 401 and /me says to sign in", async () => {
    expect((await request(app).get("/api/v1/me")).status).toBe(401);
    const page = await request(app).get("/me");
    expect(page.status).toBe(401);
    expect(page.text).toMatch(/not signed in/i);
  });
});

describe("IdP-initiated sign-in (no InResponseTo)", () => {
  it("is accepted when the org allows it", async () => {
    const f = await newOrg({ allowIdpInitiated: true });
    const result = await signIn(app, f.orgId, { email: "idp-start@acme.example", idpInitiated: true });
    expect(result.res.status, result.res.text).toBe(303);
    expect(result.res.headers.location).toBe("/me");
    expect((await me(app, result.cookie as string)).body).toMatchObject({
      email: "idp-start@acme.example",
      orgId: f.orgId,
    });
    // SP-initiated still works next to it.
    await signInOk(app, f.orgId, { email: "sp-start@acme.example" });
  });

  it("follows a relative RelayState the IdP sends, and nothing else", async () => {
    const f = await newOrg({ allowIdpInitiated: true });
    for (const [relayState, location] of [
      ["/me?from=portal", "/me?from=portal"],
      ["https://evil.example", "/me"],
    ]) {
      const { samlResponse } = await responseFor(f.orgId, {
        nameId: "portal@acme.example",
        attributes: { email: "portal@acme.example" },
      });
      const res = await postAcs(app, f.orgId, samlResponse, relayState);
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(location);
    }
  });

  it("is refused when the org does not allow it: 401 page that tells little, no session, nothing provisioned", async () => {
    const f = await newOrg({ allowIdpInitiated: false });
    const result = await signIn(app, f.orgId, {
      email: "uninvited@acme.example",
      groups: ["Engineering"],
      idpInitiated: true,
    });
    expect(result.res.status).toBe(401);
    expect(result.res.headers["content-type"]).toMatch(/^text\/html/);
    expect(result.res.text).toMatch(/sign-in could not be completed/i);
    expect(result.res.text).not.toMatch(/InResponseTo|node-saml/i);
    expect(result.cookie).toBeNull();
    expect(await membersMatching(f, "uninvited@acme.example")).toEqual([]);
    const created = (await f.owner.get("audit-events?action=member.created")).body.items as AuditItem[];
    expect(created.filter((e) => e.actor === "jit")).toEqual([]);
    expect(await seatsUsed(f)).toEqual({ chat_code: 0, chat: 0 });
  });

  it("switching allowIdpInitiated off takes effect at once", async () => {
    const f = await newOrg({ allowIdpInitiated: true });
    expect((await signIn(app, f.orgId, { email: "toggle@acme.example", idpInitiated: true })).res.status).toBe(303);
    await configureSaml(f.owner, { allowIdpInitiated: false });
    expect((await signIn(app, f.orgId, { email: "toggle@acme.example", idpInitiated: true })).res.status).toBe(401);
  });
});

describe("just-in-time provisioning through the seat allocator", () => {
  it("the first sign-in creates the member with the mapped seat type, visible to admins and in /api/v1/me", async () => {
    const f = await newOrg();
    await putMappings(f, [{ group: "Engineering", seatType: "chat_code", priority: 1 }]);
    const cookie = await signInOk(app, f.orgId, { email: "grace@acme.example", groups: ["Engineering"] });

    const member = await memberByEmail(f, "grace@acme.example");
    expect(member).toMatchObject({
      userName: "grace@acme.example",
      email: "grace@acme.example",
      role: "member",
      active: true,
      seatType: "chat_code",
      seatStatus: "claimed",
      seatReason: "mapping:Engineering",
      waitingFor: null,
      source: "jit",
    });
    const body = (await me(app, cookie)).body;
    expect(body).toMatchObject({
      id: member.id,
      email: "grace@acme.example",
      orgId: f.orgId,
      role: "member",
      seatType: "chat_code",
      seatStatus: "claimed",
      seatReason: "mapping:Engineering",
      groups: ["Engineering"],
    });
    expect(await seatsUsed(f)).toEqual({ chat_code: 1, chat: 0 });

    const history = await auditOf(f, member.id);
    expect(history.map((e) => [e.action, e.actor])).toEqual([
      ["member.created", "jit"],
      ["seat.changed", "jit"],
    ]);
    expect(history[1]).toMatchObject({
      reason: "mapping:Engineering",
      before: { seatType: null },
      after: { seatType: "chat_code", seatStatus: "claimed" },
    });
  });

  it("a second sign-in is the same member: no new member, no second seat, no new events when nothing changed", async () => {
    const f = await newOrg();
    const first = (await me(app, await signInOk(app, f.orgId, { email: "henry@acme.example" }))).body;
    const second = (await me(app, await signInOk(app, f.orgId, { email: "Henry@ACME.example" }))).body;
    expect(second.id).toBe(first.id);
    expect(await membersMatching(f, "henry@acme.example")).toHaveLength(1);
    expect(await seatsUsed(f)).toEqual({ chat_code: 1, chat: 0 });
    expect((await auditOf(f, first.id)).map((e) => e.action)).toEqual(["member.created", "seat.changed"]);
  });

  it("when the mapped type is exhausted the next member lands Unassigned, waiting for it", async () => {
    const f = await newOrg();
    await setPurchased(tdb.db, f.orgId, "chat_code", 1);
    await putMappings(f, [{ group: "Engineering", seatType: "chat_code", priority: 1 }]);
    await signInOk(app, f.orgId, { email: "ivy@acme.example", groups: ["Engineering"] });
    const cookie = await signInOk(app, f.orgId, { email: "jack@acme.example", groups: ["Engineering"] });

    expect(await memberByEmail(f, "jack@acme.example")).toMatchObject({
      seatType: "unassigned",
      seatStatus: "unassigned",
      seatReason: "waiting:chat_code",
      waitingFor: "chat_code",
    });
    expect((await me(app, cookie)).body).toMatchObject({
      email: "jack@acme.example",
      seatType: "unassigned",
      seatStatus: "unassigned",
      waitingFor: "chat_code",
    });
    const seats = (await f.owner.get("seats")).body.seatTypes as {
      type: string;
      used: number;
      purchased: number;
      waiting: number;
    }[];
    expect(seats.find((s) => s.type === "chat_code")).toMatchObject({ purchased: 1, used: 1, waiting: 1 });
    // The mapped type, not any free one: the chat seats stay free under the default policy.
    expect(seats.find((s) => s.type === "chat")).toMatchObject({ used: 0 });
    const page = await request(app).get("/me").set("Cookie", cookie);
    expect(page.text).toMatch(/no seat yet, and you are on the waiting list/);
  });

  it("a later sign-in with changed groups changes the seat, and says why", async () => {
    const f = await newOrg();
    await putMappings(f, [
      { group: "Engineering", seatType: "chat_code", priority: 1 },
      { group: "Sales", seatType: "chat", priority: 2 },
    ]);
    const cookie = await signInOk(app, f.orgId, { email: "kim@acme.example", groups: ["Sales"] });
    expect((await me(app, cookie)).body).toMatchObject({
      seatType: "chat",
      seatReason: "mapping:Sales",
      groups: ["Sales"],
    });

    await signInOk(app, f.orgId, { email: "kim@acme.example", groups: [] });
    const member = await memberByEmail(f, "kim@acme.example");
    expect(member).toMatchObject({ seatType: "chat_code", seatReason: "highest_available" });
    expect((await me(app, cookie)).body.groups).toEqual([]);
    expect(await seatsUsed(f)).toEqual({ chat_code: 1, chat: 0 });

    await signInOk(app, f.orgId, { email: "kim@acme.example", groups: ["Sales", "Engineering"] });
    expect(await memberByEmail(f, "kim@acme.example")).toMatchObject({
      seatType: "chat_code",
      seatReason: "mapping:Engineering",
    });
    await signInOk(app, f.orgId, { email: "kim@acme.example", groups: ["Sales"] });
    expect(await memberByEmail(f, "kim@acme.example")).toMatchObject({ seatType: "chat", seatReason: "mapping:Sales" });
    expect(await seatsUsed(f)).toEqual({ chat_code: 0, chat: 1 });

    const history = await auditOf(f, member.id);
    expect(
      history.filter((e) => e.action === "seat.changed").map((e) => [e.actor, e.after?.seatType, e.reason]),
    ).toEqual([
      ["jit", "chat", "mapping:Sales"],
      ["jit", "chat_code", "highest_available"],
      ["jit", "chat_code", "mapping:Engineering"],
      ["jit", "chat", "mapping:Sales"],
    ]);
    expect(
      history
        .filter((e) => e.action === "member.groups_changed")
        .map((e) => [e.actor, e.before?.groups, e.after?.groups]),
    ).toEqual([
      ["jit", ["Sales"], []],
      ["jit", [], ["Sales", "Engineering"]],
      ["jit", ["Sales", "Engineering"], ["Sales"]],
    ]);
  });

  it("an admin's manual choice is kept across later sign-ins until reset to automatic", async () => {
    const f = await newOrg();
    await putMappings(f, [{ group: "Engineering", seatType: "chat_code", priority: 1 }]);
    const cookie = await signInOk(app, f.orgId, { email: "lee@acme.example", groups: [] });
    const member = await memberByEmail(f, "lee@acme.example");
    expect(member.seatType).toBe("chat_code");

    expect((await f.owner.patch(`members/${member.id}`, { seatType: "chat" })).body).toMatchObject({
      seatType: "chat",
      seatReason: "manual",
    });
    await signInOk(app, f.orgId, { email: "lee@acme.example", groups: ["Engineering"] });
    await signInOk(app, f.orgId, { email: "lee@acme.example", groups: [] });
    expect((await me(app, cookie)).body).toMatchObject({ seatType: "chat", seatReason: "manual" });
    expect(await seatsUsed(f)).toEqual({ chat_code: 0, chat: 1 });

    // Unassigned by hand sticks too.
    expect((await f.owner.patch(`members/${member.id}`, { seatType: "unassigned" })).status).toBe(200);
    await signInOk(app, f.orgId, { email: "lee@acme.example", groups: ["Engineering"] });
    expect((await me(app, cookie)).body).toMatchObject({ seatType: "unassigned", seatReason: "manual" });

    // Back to automatic: the mapping applies (the member's groups are the ones last asserted).
    expect((await f.owner.patch(`members/${member.id}`, { seatType: "auto" })).body).toMatchObject({
      seatType: "chat_code",
      seatReason: "mapping:Engineering",
    });
    const actors = (await auditOf(f, member.id))
      .filter((e) => e.action === "seat.changed")
      .map((e) => [e.actor, e.reason]);
    expect(actors).toEqual([
      ["jit", "highest_available"],
      [`admin:${f.ownerId}`, "manual"],
      [`admin:${f.ownerId}`, "manual"],
      [`admin:${f.ownerId}`, "mapping:Engineering"],
    ]);
  });

  it("a mapping's role applies at sign-in, and leaving the group takes it back", async () => {
    const f = await newOrg();
    await putMappings(f, [{ group: "IT Admins", role: "admin", priority: 1 }]);
    const cookie = await signInOk(app, f.orgId, { email: "mia@acme.example", groups: ["IT Admins"] });
    expect((await me(app, cookie)).body).toMatchObject({
      role: "admin",
      seatType: "chat_code",
      seatReason: "highest_available",
    });
    expect((await request(app).get(`/api/v1/orgs/${f.orgId}/saml`).set("Cookie", cookie)).status).toBe(200);
    await signInOk(app, f.orgId, { email: "mia@acme.example", groups: [] });
    expect((await me(app, cookie)).body.role).toBe("member");
  });

  it("later sign-ins refresh a JIT member's names", async () => {
    const f = await newOrg();
    await signInOk(app, f.orgId, {
      email: "nora@acme.example",
      attributes: { email: "nora@acme.example", firstName: "Nora", lastName: "Old", displayName: "Nora Old" },
    });
    await signInOk(app, f.orgId, {
      email: "nora@acme.example",
      attributes: { email: "nora@acme.example", firstName: "Nora", lastName: "New", displayName: "Nora New" },
    });
    expect(await memberByEmail(f, "nora@acme.example")).toMatchObject({
      name: { givenName: "Nora", familyName: "New" },
      displayName: "Nora New",
    });
  });
});

describe("the same person over SCIM, the operator API and SAML", () => {
  it("a member SCIM created signs in as themselves: same id, one member, one seat", async () => {
    const f = await newOrg();
    const scim = scimClient(app, f.scimToken);
    const user = await createUser(scim, "olga@acme.example", { name: { givenName: "Olga", familyName: "Scim" } });
    const before = await memberByEmail(f, "olga@acme.example");
    const cookie = await signInOk(app, f.orgId, {
      email: "olga@acme.example",
      attributes: { email: "olga@acme.example", firstName: "Someone", lastName: "Else" },
    });
    const body = (await me(app, cookie)).body;
    expect(body.id).toBe(user.id);
    expect(body).toMatchObject({ email: "olga@acme.example", seatType: before.seatType, seatStatus: "claimed" });
    expect(await membersMatching(f, "olga@acme.example")).toHaveLength(1);
    expect(await seatsUsed(f)).toEqual({ chat_code: 1, chat: 0 });
    // SCIM owns the names of the members it manages; the assertion does not overwrite them.
    expect((await scim.get(`/Users/${user.id}`)).body.name).toMatchObject({ givenName: "Olga", familyName: "Scim" });
    expect((await auditOf(f, user.id)).filter((e) => e.actor === "jit" && e.action === "member.created")).toEqual([]);
  });

  it("matches a SCIM user whose userName is not the email by their email address", async () => {
    const f = await newOrg();
    const scim = scimClient(app, f.scimToken);
    const user = await createUser(scim, "pjones", {
      emails: [{ value: "Pat.Jones@acme.example", primary: true, type: "work" }],
    });
    const cookie = await signInOk(app, f.orgId, { email: "pat.jones@acme.example" });
    expect((await me(app, cookie)).body.id).toBe(user.id);
    expect(await membersMatching(f, "jones")).toHaveLength(1);
  });

  it("SCIM groups and SAML groups both drive the mapping, and /api/v1/me lists each group once", async () => {
    const f = await newOrg();
    await putMappings(f, [{ group: "Engineering", seatType: "chat", priority: 1 }]);
    const scim = scimClient(app, f.scimToken);
    const user = await createUser(scim, "quinn@acme.example");
    await createGroup(scim, "Engineering", [user.id]);
    const cookie = await signInOk(app, f.orgId, { email: "quinn@acme.example", groups: ["Engineering", "Design"] });
    const body = (await me(app, cookie)).body;
    expect(body).toMatchObject({ id: user.id, seatType: "chat", seatReason: "mapping:Engineering" });
    expect([...body.groups].sort()).toEqual(["Design", "Engineering"]);
  });

  it("the operator-created owner signing in with the owner's email is the owner", async () => {
    const f = await newOrg({}, { ownerEmail: "founder@acme.example" });
    await putMappings(f, [{ group: "Engineering", seatType: "chat_code", role: "admin", priority: 1 }]);
    const cookie = await signInOk(app, f.orgId, { email: "founder@acme.example", groups: ["Engineering"] });
    const body = (await me(app, cookie)).body;
    expect(body).toMatchObject({ id: f.ownerId, email: "founder@acme.example", role: "primary_owner" });
    expect(await membersMatching(f, "founder@acme.example")).toHaveLength(1);
    // The owner's session works for the admin API like their token does.
    expect((await request(app).get(`/api/v1/orgs/${f.orgId}/saml`).set("Cookie", cookie)).status).toBe(200);
  });
});

describe("attribute profiles", () => {
  const ENTRA = {
    email: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    name: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
    givenName: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
    surname: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
    displayName: "http://schemas.microsoft.com/identity/claims/displayname",
    groups: "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
  };

  it("entra: email, names and group object ids from Microsoft's claim URIs; the NameID may be opaque", async () => {
    const f = await newOrg({ attributeProfile: "entra" });
    const engineering = "6f1e7a3c-1b2d-4e5f-8a9b-0c1d2e3f4a5b";
    await putMappings(f, [{ group: engineering, seatType: "chat", priority: 1 }]);
    const cookie = await signInOk(app, f.orgId, {
      email: "rosa@acme.example",
      nameId: "Qx9VZ3c2bDktbm90LWFuLWVtYWls",
      attributes: {
        [ENTRA.email]: "Rosa@Acme.example",
        [ENTRA.name]: "rosa@acme.onmicrosoft.com",
        [ENTRA.givenName]: "Rosa",
        [ENTRA.surname]: "Diaz",
        [ENTRA.displayName]: "Rosa Diaz",
        [ENTRA.groups]: [engineering, "0a0b0c0d-0000-4000-8000-000000000001"],
      },
    });
    expect((await me(app, cookie)).body).toMatchObject({
      email: "rosa@acme.example",
      seatType: "chat",
      seatReason: `mapping:${engineering}`,
    });
    expect(await memberByEmail(f, "rosa@acme.example")).toMatchObject({
      name: { givenName: "Rosa", familyName: "Diaz" },
      displayName: "Rosa Diaz",
    });
  });

  it("entra: falls back to the name claim (the UPN) when there is no emailaddress claim", async () => {
    const f = await newOrg({ attributeProfile: "entra" });
    const cookie = await signInOk(app, f.orgId, {
      email: "upn@acme.example",
      nameId: "opaque-id-123",
      attributes: { [ENTRA.name]: "upn@acme.example" },
    });
    expect((await me(app, cookie)).body.email).toBe("upn@acme.example");
  });

  it("entra: plain 'email'/'groups' attributes are not Entra's claims and are not read", async () => {
    const f = await newOrg({ attributeProfile: "entra" });
    await putMappings(f, [{ group: "Engineering", seatType: "chat", priority: 1 }]);
    const cookie = await signInOk(app, f.orgId, {
      email: "sam@acme.example",
      attributes: { [ENTRA.email]: "sam@acme.example", groups: ["Engineering"] },
    });
    expect((await me(app, cookie)).body).toMatchObject({
      seatType: "chat_code",
      seatReason: "highest_available",
      groups: [],
    });
  });

  it("okta: email, firstName, lastName and a multi-valued groups attribute", async () => {
    const f = await newOrg({ attributeProfile: "okta" });
    await putMappings(f, [{ group: "Support", seatType: "chat", priority: 1 }]);
    const cookie = await signInOk(app, f.orgId, {
      email: "tara@acme.example",
      attributes: { email: "tara@acme.example", firstName: "Tara", lastName: "Okta", groups: ["Everyone", "Support"] },
    });
    expect((await me(app, cookie)).body).toMatchObject({
      email: "tara@acme.example",
      seatType: "chat",
      seatReason: "mapping:Support",
      groups: ["Everyone", "Support"],
    });
    expect(await memberByEmail(f, "tara@acme.example")).toMatchObject({
      name: { givenName: "Tara", familyName: "Okta" },
    });
  });

  it("okta: the user.* attribute names of Okta's default statements", async () => {
    const f = await newOrg({ attributeProfile: "okta" });
    const cookie = await signInOk(app, f.orgId, {
      email: "uma@acme.example",
      nameId: "00u1abcd",
      attributes: { "user.email": "uma@acme.example", "user.firstName": "Uma", "user.lastName": "Lee" },
    });
    expect((await me(app, cookie)).body.email).toBe("uma@acme.example");
    expect(await memberByEmail(f, "uma@acme.example")).toMatchObject({ name: { givenName: "Uma", familyName: "Lee" } });
  });

  it("google: primaryEmail", async () => {
    const f = await newOrg({ attributeProfile: "google" });
    const cookie = await signInOk(app, f.orgId, {
      email: "vic@acme.example",
      nameId: "1234567890",
      attributes: { primaryEmail: "vic@acme.example", givenName: "Vic" },
    });
    expect((await me(app, cookie)).body.email).toBe("vic@acme.example");
  });

  it("generic: email, names and groups by their plain names", async () => {
    const f = await newOrg({ attributeProfile: "generic" });
    const cookie = await signInOk(app, f.orgId, {
      email: "wes@acme.example",
      attributes: {
        email: "wes@acme.example",
        firstName: "Wes",
        lastName: "G",
        displayName: "Wes G",
        groups: ["A", "B"],
      },
    });
    expect((await me(app, cookie)).body).toMatchObject({ email: "wes@acme.example", groups: ["A", "B"] });
    expect(await memberByEmail(f, "wes@acme.example")).toMatchObject({
      name: { givenName: "Wes", familyName: "G" },
      displayName: "Wes G",
    });
  });

  it("generic: without an email attribute, an email-shaped NameID is the email", async () => {
    const f = await newOrg({ attributeProfile: "generic" });
    const cookie = await signInOk(app, f.orgId, {
      email: "ignored",
      nameId: "Xena@Acme.example",
      attributes: { firstName: "Xena" },
    });
    expect((await me(app, cookie)).body.email).toBe("xena@acme.example");
  });

  it("generic: no email attribute and an opaque NameID is refused (401), nothing provisioned", async () => {
    const f = await newOrg({ attributeProfile: "generic" });
    const result = await signIn(app, f.orgId, {
      email: "ignored",
      nameId: "opaque-user-42",
      attributes: { firstName: "Nobody" },
    });
    expect(result.res.status).toBe(401);
    expect(result.cookie).toBeNull();
    expect((await f.owner.get("members?limit=500")).body.items).toHaveLength(1); // the owner only
  });
});

describe("who may sign in", () => {
  it("a member deactivated over SCIM gets 403, no session, and no seat back; their old session stops working", async () => {
    const f = await newOrg();
    const scim = scimClient(app, f.scimToken);
    const user = await createUser(scim, "yuri@acme.example");
    const oldCookie = await signInOk(app, f.orgId, { email: "yuri@acme.example" });
    const res = await scim.patch(`/Users/${user.id}`, patchBody({ op: "replace", value: { active: false } }));
    expect([200, 204], JSON.stringify(res.body)).toContain(res.status);
    expect(await seatsUsed(f)).toEqual({ chat_code: 0, chat: 0 });

    const refused = await signIn(app, f.orgId, { email: "yuri@acme.example", groups: ["Engineering"] });
    expect(refused.res.status).toBe(403);
    expect(refused.res.headers["content-type"]).toMatch(/^text\/html/);
    expect(refused.res.text).toMatch(/deactivated/);
    expect(refused.cookie).toBeNull();
    expect(await memberByEmail(f, "yuri@acme.example")).toMatchObject({
      id: user.id,
      active: false,
      seatType: "unassigned",
    });
    expect(await seatsUsed(f)).toEqual({ chat_code: 0, chat: 0 });
    // The refused sign-in changed nothing (its transaction rolled back): no group change recorded.
    expect((await auditOf(f, user.id)).filter((e) => e.action === "member.groups_changed")).toEqual([]);
    expect((await me(app, oldCookie)).status).toBe(401);
  });

  it("an Unassigned member can sign in, and /api/v1/me and /me say they have no seat", async () => {
    const f = await newOrg();
    await setPurchased(tdb.db, f.orgId, "chat_code", 0);
    await setPurchased(tdb.db, f.orgId, "chat", 0);
    const cookie = await signInOk(app, f.orgId, { email: "zoe@acme.example" });
    expect((await me(app, cookie)).body).toMatchObject({
      email: "zoe@acme.example",
      seatType: "unassigned",
      seatStatus: "unassigned",
      seatReason: "exhausted",
      waitingFor: "any",
    });
    const page = await request(app).get("/me").set("Cookie", cookie);
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/You have no seat yet/);
  });

  it("an owner who is Unassigned by choice is not on a waiting list", async () => {
    const f = await newOrg({}, { ownerEmail: "boss@acme.example" });
    const cookie = await signInOk(app, f.orgId, { email: "boss@acme.example" });
    expect((await me(app, cookie)).body).toMatchObject({
      role: "primary_owner",
      seatType: "unassigned",
      waitingFor: null,
    });
    const page = await request(app).get("/me").set("Cookie", cookie);
    // Buying seats gives no seat; the owner is told how to give themselves one, not to ask someone.
    expect(page.text).toMatch(/You have no seat yet\. As primary owner, you can give yourself one/);
    expect(page.text).not.toMatch(/waiting list/);
  });
});

describe("what reaches the log", () => {
  it("neither the SAMLResponse, the email, the session cookie nor any token appears in a log line", async () => {
    const lines: string[] = [];
    const { pino } = await import("pino");
    // No redaction here on purpose: the app must not hand these values to the logger in the first place.
    const logger = pino({ level: "trace" }, { write: (line: string) => void lines.push(line) });
    const logged = buildApp({
      ...testDeps(tdb.db),
      logger,
      sessions: createSessionCodec("log-test-session-key"),
      operatorToken: OPERATOR_TOKEN,
    });

    const f = await newOrg({}, {}, logged);
    const email = "secret.person@hidden-domain.example";
    const result = await signIn(logged, f.orgId, { email, groups: ["Engineering"] });
    expect(result.res.status).toBe(303);
    const cookieValue = (result.cookie as string).slice("roster_session=".length);
    expect(
      (
        await request(logged)
          .get("/api/v1/me")
          .set("Cookie", result.cookie as string)
      ).status,
    ).toBe(200);
    expect(
      (
        await request(logged)
          .get("/me")
          .set("Cookie", result.cookie as string)
      ).status,
    ).toBe(200);

    // Refused sign-ins log their reason: still no response, no email.
    const refused = await responseFor(f.orgId, { nameId: email, attributes: { email } }); // IdP-initiated, not allowed
    expect((await postAcs(logged, f.orgId, refused.samlResponse, "/me")).status).toBe(401);
    const scim = scimClient(logged, f.scimToken);
    const user = await createUser(scim, "deactivated.person@hidden-domain.example");
    await scim.patch(`/Users/${user.id}`, patchBody({ op: "replace", value: { active: false } }));
    const deactivated = await signIn(logged, f.orgId, { email: "deactivated.person@hidden-domain.example" });
    expect(deactivated.res.status).toBe(403);

    const text = lines.join("");
    expect(text).toMatch(/"saml sign-in"/);
    expect(text).toMatch(/"saml assertion rejected"/);
    expect(text).toMatch(/"saml sign-in refused"/);
    const secrets: [string, string][] = [
      ["the SAMLResponse", result.samlResponse],
      ["the refused SAMLResponse", refused.samlResponse],
      ["the deactivated member's SAMLResponse", deactivated.samlResponse],
      // A stretch from the middle: every response starts with the same base64 of "<samlp:Response".
      ["part of the SAMLResponse", result.samlResponse.slice(800, 860)],
      ["the email", email],
      ["the email's domain", "hidden-domain"],
      ["the session cookie", cookieValue],
      ["the session cookie's signature", cookieValue.split(".")[1]],
      ["the owner's token", f.ownerToken],
      ["the SCIM token", f.scimToken],
      [
        "the IdP's signature",
        /<ds:SignatureValue>([^<]{40})/.exec(Buffer.from(result.samlResponse, "base64").toString("utf8"))?.[1] ??
          "missing",
      ],
    ];
    for (const [name, secret] of secrets) {
      expect(secret.length, name).toBeGreaterThan(8);
      expect(text.includes(secret), `${name} is in the log`).toBe(false);
    }
    // Sanity check of the capture: request lines for the ACS are there.
    expect(
      lines.some((l) => l.includes(`/saml/${f.orgId}/acs`) || l.includes('"path":"/acs"') || l.includes("/acs")),
    ).toBe(true);
  });
});

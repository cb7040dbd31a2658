// The console in a real browser: Debian's Chromium driven by playwright-core against a live Roster on a test
// database. Signs in with the owner's link, reads the seat bars, buys seats through a quote, invites someone and
// claims the link in a fresh browser, searches, unassigns and reassigns, hits the no-seat prompt and buys the
// missing seat, previews and saves a mapping and reads
// its job, creates and revokes a SCIM token, adds a webhook endpoint for a local receiver and sees a test event
// delivered; runs axe-core on every page (no serious or critical
// violation) and keeps screenshots at desktop and phone width in test-results/screenshots (gitignored).
import fs from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { createRequire } from "node:module";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliverWebhooks } from "../../src/services/webhook-delivery.js";
import { testApp, OPERATOR_TOKEN } from "../support/app.js";
import { testDeps } from "../support/factories.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SHOTS = path.resolve("test-results/screenshots");
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

let tdb: TestDatabase;
let server: Server;
let base: string;
let browser: Browser;
// A local webhook receiver (testApp allows private addresses, as WEBHOOK_ALLOW_PRIVATE=true does).
let receiver: Server;
let receiverUrl: string;
const receivedTypes: string[] = [];
let org: { orgId: string; scimToken: string; ownerSignInUrl: string };

async function api(pathName: string, init: { method?: string; token: string; body?: unknown; scim?: boolean }) {
  const res = await fetch(`${base}${pathName}`, {
    method: init.method ?? "GET",
    headers: {
      authorization: `Bearer ${init.token}`,
      "content-type": init.scim ? "application/scim+json" : "application/json",
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${pathName}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

beforeAll(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  tdb = await createTestDatabase();
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      receivedTypes.push((JSON.parse(Buffer.concat(chunks).toString("utf8")) as { type: string }).type);
      res.writeHead(200, { "content-type": "text/plain" }).end("thanks");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/roster-events`;
  const app = testApp(tdb.db);
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  org = await api("/api/v1/orgs", {
    method: "POST",
    token: OPERATOR_TOKEN,
    body: { name: "Acme Robotics", plan: "enterprise_usage", seats: { chat_code: 10, chat: 10 } },
  });
  const people = [
    ["ada@acme.test", "Ada Lovelace"],
    ["grace@acme.test", "Grace Hopper"],
    ["linus@acme.test", "Linus Torvalds"],
    ["xss@acme.test", "<img src=x onerror=alert(1)>"],
  ];
  for (let i = 0; i < 24; i++) people.push([`person${i}@acme.test`, `Person ${i}`]);
  const ids: string[] = [];
  for (const [userName, displayName] of people) {
    const u = await api("/scim/v2/Users", {
      method: "POST",
      token: org.scimToken,
      scim: true,
      body: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName, displayName, active: true },
    });
    ids.push(u.id);
  }
  await api("/scim/v2/Groups", {
    method: "POST",
    token: org.scimToken,
    scim: true,
    body: {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
      displayName: "Engineering",
      members: ids.slice(0, 3).map((value) => ({ value })),
    },
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"],
  });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
  await new Promise((r) => receiver?.close(r));
  await tdb?.destroy();
});

/** axe-core on the page as it is; fails on serious or critical violations. */
async function checkA11y(page: Page, name: string) {
  await page.evaluate(axeSource);
  const result = (await page.evaluate(`axe.run(document, { resultTypes: ["violations"] })`)) as {
    violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[];
  };
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(
    bad.map((v) => `${name}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
  ).toEqual([]);
}

/** axe, then screenshots at 1280 and 390 px wide (full page). */
async function inspect(page: Page, name: string) {
  await checkA11y(page, name);
  for (const [width, label] of [
    [1280, "desktop"],
    [390, "phone"],
  ] as const) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: path.join(SHOTS, `${name}-${label}.png`), fullPage: true });
    await page.screenshot({ path: path.join(SHOTS, `${name}-${label}-top.png`) });
    if (label === "phone") await checkA11y(page, `${name} (phone)`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

describe("the console in Chromium", () => {
  it("runs the owner's day: sign in, seats, members, mappings, tokens; every page accessible", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("dialog", (d) => {
      errors.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });

    // Signed out: the sign-in page.
    await page.goto(`${base}/admin`);
    await expect(page.locator("h1").textContent()).resolves.toBe("Sign in to the Roster console");
    await inspect(page, "01-signin");

    // The owner's one-time link, straight to the console.
    await page.goto(`${base}${new URL(org.ownerSignInUrl).pathname}?returnTo=/admin`);
    expect(new URL(page.url()).pathname).toBe("/admin");
    const chatCode = page.locator('[data-seat-type="chat_code"]');
    expect(await chatCode.locator("[data-used]").textContent()).toBe("10");
    expect(await chatCode.locator("[data-purchased]").textContent()).toBe("10");
    expect(await page.locator('[data-seat-type="chat"] [data-used]').textContent()).toBe("10");
    expect(await page.locator("[data-unassigned]").textContent()).toBe("9"); // 8 waiting + the owner
    await expect(page.getByRole("link", { name: /Buy 8 seats/ }).count()).resolves.toBe(1);
    await inspect(page, "02-overview");

    // Billing: the Buy link opens a prefilled quote; one more seat than the waiters; confirm; they get seats.
    await page.getByRole("link", { name: /Buy 8 seats/ }).click();
    expect(new URL(page.url()).pathname).toBe("/admin/billing");
    expect(await page.getByLabel("Chat seats to add").inputValue()).toBe("8");
    expect(await page.locator('[data-line="chat"] td[data-label="Seats"]').textContent()).toContain("10 → 18");
    await inspect(page, "02a-billing-quote");
    await page.getByLabel("Chat seats to add").fill("9");
    await page.getByRole("button", { name: "Get a quote" }).click();
    expect(await page.locator('[data-line="chat"] td[data-label="Seats"]').textContent()).toContain("10 → 19");
    expect(await page.locator("[data-total]").textContent()).toMatch(/^\$3,2\d\d\.\d\d$/); // 9 × $360, prorated
    await page.getByRole("link", { name: "Buy these seats…" }).click();
    await page.getByRole("heading", { name: /You will be charged/ }).waitFor();
    await inspect(page, "02b-billing-confirm");
    await page.getByRole("button", { name: "Confirm and buy" }).click();
    await page.getByText("Seats bought:").waitFor();
    expect(await page.getByText("8 waiting members got seats.").count()).toBe(1);
    expect(await page.locator("tr[data-charge]").count()).toBe(1);
    await inspect(page, "02c-billing-bought");
    await page.getByRole("link", { name: "Overview" }).click();
    const chat = page.locator('[data-seat-type="chat"]');
    expect(await chat.locator("[data-used]").textContent()).toBe("18");
    expect(await chat.locator("[data-purchased]").textContent()).toBe("19");
    expect(await chat.locator("[data-free]").textContent()).toBe("1");
    expect(await page.locator("[data-unassigned]").textContent()).toBe("1"); // the owner
    await expect(page.getByRole("link", { name: /Buy \d+ seats?/ }).count()).resolves.toBe(0);

    // Invitations: invite, copy the link (shown once), claim it signed out in a fresh browser.
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
    await page.getByRole("link", { name: "Invitations" }).click();
    await inspect(page, "02d-invitations");
    await page.getByLabel("Email").fill("new.hire@acme.test");
    await page.getByLabel("Seat type").selectOption("chat");
    await page.getByRole("button", { name: "Invite", exact: true }).click();
    const claimLink = (await page.locator("#claim-link").textContent())?.trim() ?? "";
    expect(claimLink).toMatch(/\/claim\/claim_/);
    await page.getByRole("button", { name: "Copy link" }).click();
    await page.getByRole("button", { name: "Copied" }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(claimLink);
    expect(await page.locator('tr[data-invitation="new.hire@acme.test"]').getAttribute("data-status")).toBe("pending");
    await inspect(page, "02e-invitations-new-link");
    await page.goto(`${base}/admin/invitations`);
    expect(await page.content()).not.toContain(claimLink);
    const invitee = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const claimPage = await invitee.newPage();
    await claimPage.goto(claimLink.replace("http://roster.test", base));
    await expect(claimPage.locator("h1").textContent()).resolves.toBe("Join Acme Robotics");
    await inspect(claimPage, "02f-claim");
    await claimPage.getByRole("button", { name: "Claim seat" }).click();
    await claimPage.waitForURL(/\/me$/, { timeout: 5000 }).catch(async () => {
      throw new Error(`the claim did not land on /me: ${await claimPage.locator("main").textContent()}`);
    });
    expect(await claimPage.locator("main").textContent()).toContain("Your seat: Chat.");
    await inspect(claimPage, "02g-claimed-me");
    await claimPage.goto(claimLink.replace("http://roster.test", base));
    await expect(claimPage.locator("h1").textContent()).resolves.toBe("Claim link not valid");
    await inspect(claimPage, "02h-claim-used");
    await invitee.close();
    await page.goto(`${base}/admin/invitations?status=claimed`);
    expect(await page.locator('tr[data-invitation="new.hire@acme.test"]').getAttribute("data-status")).toBe("claimed");

    // Members: search, unassign, reassign.
    await page.getByRole("link", { name: "Members" }).click();
    await inspect(page, "03-members");
    await page.getByLabel("Name or email").fill("grace");
    await page.getByRole("button", { name: "Search" }).click();
    const row = page.locator('tr[data-member="grace@acme.test"]');
    await expect(row.count()).resolves.toBe(1);
    expect(await page.locator("tr[data-member]").count()).toBe(1);
    expect(await row.locator("[data-seat]").textContent()).toBe("Chat + Claude Code");
    await row.locator("summary").click();
    await row.getByRole("button", { name: "Unassign" }).click();
    await page.getByText("Seat changed.").waitFor();
    expect(await page.locator('tr[data-member="grace@acme.test"] [data-seat]').textContent()).toBe("Unassigned");
    const again = page.locator('tr[data-member="grace@acme.test"]');
    await again.locator("summary").click();
    await again.locator(`select[name="seatType"]`).selectOption("chat_code");
    await again.getByRole("button", { name: "Apply" }).click();
    await page.getByText("Seat changed.").waitFor();
    expect(await page.locator('tr[data-member="grace@acme.test"] [data-seat]').textContent()).toBe(
      "Chat + Claude Code",
    );
    expect(await page.locator('tr[data-member="grace@acme.test"]').textContent()).toContain("Set by an admin");

    // The no-seat prompt: Chat + Claude Code is full again, so moving the new hire there offers the owner the
    // purchase; the quote comes prefilled with the one seat needed, and after buying it the move works.
    await page.getByLabel("Name or email").fill("new.hire@acme.test");
    await page.getByRole("button", { name: "Search" }).click();
    const hire = page.locator('tr[data-member="new.hire@acme.test"]');
    await hire.locator("summary").click();
    await hire.locator(`select[name="seatType"]`).selectOption("chat_code");
    await hire.getByRole("button", { name: "Apply" }).click();
    await page.getByRole("link", { name: "Buy 1 Chat + Claude Code seat" }).waitFor();
    // The refused change answers 409 with the prompt page, which the browser logs: that one is expected.
    expect(errors.splice(0)).toEqual(["Failed to load resource: the server responded with a status of 409 (Conflict)"]);
    await inspect(page, "03a-members-no-seat");
    await page.getByRole("link", { name: "Buy 1 Chat + Claude Code seat" }).click();
    expect(new URL(page.url()).pathname).toBe("/admin/billing");
    expect(await page.getByLabel("Chat + Claude Code seats to add").inputValue()).toBe("1");
    expect(await page.locator('[data-line="chat_code"] td[data-label="Seats"]').textContent()).toContain("10 → 11");
    await page.getByRole("link", { name: "Buy these seats…" }).click();
    await page.getByRole("button", { name: "Confirm and buy" }).click();
    await page.getByText("Seats bought:").waitFor();
    await page.getByRole("link", { name: "Members" }).click();
    await page.getByLabel("Name or email").fill("new.hire@acme.test");
    await page.getByRole("button", { name: "Search" }).click();
    const hired = page.locator('tr[data-member="new.hire@acme.test"]');
    await hired.locator("summary").click();
    await hired.locator(`select[name="seatType"]`).selectOption("chat_code");
    await hired.getByRole("button", { name: "Apply" }).click();
    await page.getByText("Seat changed.").waitFor();
    expect(await page.locator('tr[data-member="new.hire@acme.test"] [data-seat]').textContent()).toBe(
      "Chat + Claude Code",
    );
    await page.getByLabel("Name or email").fill("xss");
    await page.getByRole("button", { name: "Search" }).click();
    expect(await page.locator('tr[data-member="xss@acme.test"] strong').textContent()).toBe(
      "<img src=x onerror=alert(1)>",
    );
    expect(await page.locator("main img").count()).toBe(0);

    // Group mappings: preview, then save.
    await page.getByRole("link", { name: "Group mappings" }).click();
    await inspect(page, "04-mappings");
    await page.getByLabel("Group of rule 1").fill("Engineering");
    await page.getByLabel("Seat type of rule 1").selectOption("chat");
    await page.getByLabel("Priority of rule 1").fill("10");
    await page.getByRole("button", { name: "Preview changes" }).click();
    const summary = await page.locator("[data-preview-summary]").textContent();
    expect(summary).toMatch(/Saving would change [1-9]\d* of \d+ members/);
    await inspect(page, "05-mappings-preview");
    await page.getByRole("button", { name: "Save these rules" }).click();
    await page.getByText("Mappings saved").waitFor();
    // Saving starts a job: its page shows the state, progress and counts, and links back.
    expect(new URL(page.url()).pathname).toMatch(/^\/admin\/jobs\/[0-9a-f-]{36}$/);
    expect(await page.locator("[data-job-state]").getAttribute("data-job-state")).toBe("succeeded");
    expect(Number(await page.locator('[data-count="changed"]').textContent())).toBeGreaterThan(0);
    await inspect(page, "05a-job");
    await page.getByRole("link", { name: "All jobs" }).click();
    expect(await page.locator("tr[data-job]").count()).toBe(1);
    await inspect(page, "05b-jobs");
    await page.getByRole("link", { name: "← Group mappings" }).click();
    expect(await page.getByLabel("Group of rule 1").inputValue()).toBe("Engineering");

    // Connections: create a SCIM token (shown once, copy button), then revoke it.
    await page.getByRole("link", { name: "Connections" }).click();
    await page.getByLabel("New token name").fill("okta-rotation");
    await page.getByRole("button", { name: "Create token" }).click();
    const token = (await page.locator("#new-token").textContent())?.trim() ?? "";
    expect(token).toMatch(/^rst_scim_/);
    await expect(page.getByRole("button", { name: "Copy token" }).isVisible()).resolves.toBe(true);
    await inspect(page, "06-connections-new-token");
    const used = await fetch(`${base}/scim/v2/Users?count=1`, { headers: { authorization: `Bearer ${token}` } });
    expect(used.status).toBe(200);
    await page.goto(`${base}/admin/connections`);
    expect(await page.content()).not.toContain(token);
    await page
      .locator('tr[data-token="okta-rotation"]')
      .getByRole("button", { name: /Revoke/ })
      .click();
    await page.getByText("Token revoked").waitFor();
    const refused = await fetch(`${base}/scim/v2/Users?count=1`, { headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(401);
    await inspect(page, "07-connections");

    // Webhooks: add an endpoint for two events (secret shown once), send a test event, see it delivered.
    await page.getByRole("link", { name: "Webhooks" }).click();
    await inspect(page, "07a-webhooks-empty");
    await page.getByLabel("Endpoint URL").fill(receiverUrl);
    await page.getByLabel("member.seat_changed").check();
    await page.getByLabel("member.role_changed").check();
    await page.getByRole("button", { name: "Add endpoint" }).click();
    const secret = (await page.locator("#new-secret").textContent())?.trim() ?? "";
    expect(secret).toMatch(/^whsec_/);
    await expect(page.getByRole("button", { name: "Copy secret" }).isVisible()).resolves.toBe(true);
    const endpointRow = page.locator(`tr[data-endpoint="${receiverUrl}"]`);
    expect(await endpointRow.locator("td[data-label=Events]").textContent()).toBe(
      "member.seat_changed, member.role_changed",
    );
    await inspect(page, "07b-webhooks-new-secret");
    await page.goto(`${base}/admin/webhooks`);
    expect(await page.content()).not.toContain(secret);
    await endpointRow.getByRole("button", { name: /Send test event/ }).click();
    await page.getByText("Test event queued").waitFor();
    expect(await page.locator('tr[data-delivery="webhook.test"]').getAttribute("data-status")).toBe("pending");
    await deliverWebhooks(testDeps(tdb.db));
    expect(receivedTypes).toContain("webhook.test");
    await page.getByRole("link", { name: "Reload" }).click();
    const delivered = page.locator('tr[data-delivery="webhook.test"]');
    expect(await delivered.getAttribute("data-status")).toBe("delivered");
    expect(await delivered.locator("[data-attempt] strong").textContent()).toBe("HTTP 200");
    expect(await delivered.locator("[data-excerpt]").textContent()).toBe("thanks");
    await inspect(page, "07c-webhook-deliveries");
    await page.getByRole("link", { name: "← All endpoints" }).click();
    await endpointRow.getByRole("link", { name: /Delete/ }).click();
    await inspect(page, "07d-webhook-delete");
    await page.getByRole("link", { name: "Keep it" }).click();
    expect(await page.locator("tr[data-endpoint]").count()).toBe(1);

    // Audit log, settings, /me.
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByLabel("Action").fill("seat.changed");
    await page.getByRole("button", { name: "Filter" }).click();
    expect(await page.locator('tr[data-action="seat.changed"]').count()).toBeGreaterThan(0);
    await inspect(page, "08-audit");
    await page.getByRole("link", { name: "Settings" }).click();
    await inspect(page, "09-settings");
    await page.getByRole("link", { name: "My seat" }).click();
    await inspect(page, "10-me");

    // Dark mode (prefers-color-scheme): contrast holds there too.
    await page.emulateMedia({ colorScheme: "dark" });
    for (const [name, url] of [
      ["11-dark-overview", "/admin"],
      ["12-dark-members", "/admin/members?q=grace"],
      ["13-dark-connections", "/admin/connections"],
      ["14-dark-billing", "/admin/billing?add_chat_code=2"],
      ["15-dark-invitations", "/admin/invitations?status=all"],
      ["16-dark-webhooks", "/admin/webhooks"],
    ] as const) {
      await page.goto(`${base}${url}`);
      await inspect(page, name);
    }
    await page.emulateMedia({ colorScheme: "light" });

    // Keyboard: the skip link is the first stop and takes focus to main.
    await page.goto(`${base}/admin`);
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");

    expect(errors).toEqual([]);

    // Sign out ends the session (the page after it answers 401, which the browser logs).
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page.locator("h1").textContent()).resolves.toBe("Sign in to the Roster console");
    await page.goto(`${base}/admin/members`);
    await expect(page.locator("h1").textContent()).resolves.toBe("Sign in to the Roster console");
    await context.close();
  });
});

// DOMAIN §1: catalogs are data under mappings/catalogs; a malformed one is refused at start with its problems.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loadCatalogs } from "../../src/catalogs.js";
import { hasSeatType } from "../../src/domain/catalog.js";
import { DomainError } from "../../src/domain/errors.js";

const shippedDir = fileURLToPath(new URL("../../mappings", import.meta.url));

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A mappings dir holding `catalogs/<name>` for each entry; strings are written as-is, objects as JSON. */
function mappingsDir(files: Record<string, unknown>): string {
  const root = mkdtempSync(path.join(tmpdir(), "roster-catalogs-"));
  tempDirs.push(root);
  mkdirSync(path.join(root, "catalogs"));
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(path.join(root, "catalogs", name), typeof content === "string" ? content : JSON.stringify(content));
  }
  return root;
}

function catalog(id: string, types: string[], extra: Record<string, unknown> = {}) {
  return {
    id,
    label: `Plan ${id}`,
    minSeats: 1,
    maxSeats: 100,
    seatTypes: types.map((type) => ({ type, label: type.toUpperCase() })),
    ...extra,
  };
}

function loadError(dir: string): string {
  try {
    loadCatalogs(dir);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected loadCatalogs to refuse the catalogs");
}

describe("the shipped catalogs", () => {
  const catalogs = loadCatalogs(shippedDir);

  it.each([
    ["enterprise_usage", ["chat_code", "chat"], ["Chat + Claude Code", "Chat"]],
    ["enterprise_seat", ["premium", "standard"], ["Premium", "Standard"]],
    ["enterprise", ["enterprise"], ["Enterprise"]],
  ])("%s ranks %j high to low", (id, types, labels) => {
    const c = catalogs.get(id);
    expect(c.id).toBe(id);
    expect(c.seatTypes.map((s) => s.type)).toEqual(types);
    expect(c.seatTypes.map((s) => s.label)).toEqual(labels);
    expect(c.seatTypes.map((s) => s.rank)).toEqual(types.map((_t, i) => i + 1));
    for (const t of types) expect(hasSeatType(c, t)).toBe(true);
    expect(hasSeatType(c, "unassigned")).toBe(false);
  });

  it("lists every catalog file", () => {
    expect(catalogs.list().map((c) => c.id)).toEqual(
      expect.arrayContaining(["enterprise", "enterprise_seat", "enterprise_usage"]),
    );
  });

  it("enterprise catalogs require at least 20 seats", () => {
    for (const id of ["enterprise", "enterprise_seat", "enterprise_usage"]) expect(catalogs.get(id).minSeats).toBe(20);
  });

  it("an unknown plan is an invalid_request naming the known plans", () => {
    let thrown: unknown;
    try {
      catalogs.get("gold_plan");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DomainError);
    expect((thrown as DomainError).code).toBe("invalid_request");
    expect((thrown as DomainError).message).toMatch(/unknown plan "gold_plan"/);
    expect((thrown as DomainError).message).toContain("enterprise_usage");
  });
});

describe("a hand-written catalog dir", () => {
  it("loads a valid single-type catalog and ignores non-JSON files", () => {
    const dir = mappingsDir({
      "solo.json": catalog("solo", ["only"]),
      "README.md": "not a catalog",
      "solo.json.bak": "{",
    });
    const catalogs = loadCatalogs(dir);
    expect(catalogs.list().map((c) => c.id)).toEqual(["solo"]);
    expect(catalogs.get("solo").seatTypes).toEqual([{ type: "only", label: "ONLY", rank: 1 }]);
  });

  it.each<[string, Record<string, unknown>, RegExp[]]>([
    [
      "duplicate seat types",
      { "dup.json": catalog("dup", ["chat", "chat"]) },
      [/dup\.json: .*seat types must be unique/],
    ],
    ["reserved name unassigned", { "res.json": catalog("res", ["chat", "unassigned"]) }, [/res\.json: .*reserved/]],
    ["reserved name any", { "res.json": catalog("res", ["any"]) }, [/res\.json: .*reserved/]],
    ["reserved name auto", { "res.json": catalog("res", ["auto", "chat"]) }, [/res\.json: .*reserved/]],
    [
      "id not matching the file name",
      { "plan_a.json": catalog("plan_b", ["chat"]) },
      [/plan_a\.json: id "plan_b" must match the file name/],
    ],
    ["bad JSON", { "broken.json": '{ "id": "broken", ' }, [/broken\.json: not valid JSON/]],
    ["empty file", { "empty.json": "" }, [/empty\.json: not valid JSON/]],
    ["no seat types", { "none.json": catalog("none", []) }, [/none\.json: seatTypes: /]],
    [
      "seat type not lower_snake_case",
      { "caps.json": catalog("caps", ["Chat"]) },
      [/caps\.json: seatTypes\.0\.type: seat type ids are lower_snake_case/],
    ],
    [
      "minSeats above maxSeats",
      { "mm.json": catalog("mm", ["chat"], { minSeats: 50, maxSeats: 10 }) },
      [/mm\.json: .*minSeats must not exceed maxSeats/],
    ],
    ["unknown key", { "extra.json": catalog("extra", ["chat"], { price: 10 }) }, [/extra\.json: /]],
    [
      "missing label",
      { "nolabel.json": { id: "nolabel", minSeats: 1, maxSeats: 5, seatTypes: [{ type: "a", label: "A" }] } },
      [/nolabel\.json: label: /],
    ],
    [
      "every bad file is reported at once, next to a good one",
      {
        "good.json": catalog("good", ["chat"]),
        "dup.json": catalog("dup", ["chat", "chat"]),
        "broken.json": "not json",
        "plan_a.json": catalog("plan_b", ["chat"]),
      },
      [
        /dup\.json: .*seat types must be unique/,
        /broken\.json: not valid JSON/,
        /plan_a\.json: id "plan_b" must match the file name/,
      ],
    ],
  ])("refuses %s, naming the file and the problem", (_name, files, problems) => {
    const dir = mappingsDir(files);
    const message = loadError(dir);
    expect(message).toContain(`Invalid seat catalogs in ${path.join(dir, "catalogs")}`);
    for (const p of problems) expect(message).toMatch(p);
    // A good file in the same dir is not blamed.
    expect(message).not.toMatch(/good\.json/);
  });

  it("refuses a dir with no catalogs", () => {
    const dir = mappingsDir({ "notes.txt": "nothing here" });
    expect(loadError(dir)).toMatch(/No seat catalogs found/);
  });
});

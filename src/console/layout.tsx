// The one layout of every console page (and /me): skip link, header with the org and who is signed in, the
// navigation for the signed-in role, and a main landmark. Rendered on the server; preact escapes every value.
import type { ComponentChildren } from "preact";
import { render } from "preact-render-to-string";
import type { Response } from "express";
import type { Role } from "../domain/roles.js";
import { roleAtLeast } from "../domain/roles.js";

export interface Viewer {
  orgName: string;
  name: string;
  role: Role;
  csrf: string;
}

export type Section =
  | "overview"
  | "members"
  | "mappings"
  | "invitations"
  | "billing"
  | "connections"
  | "webhooks"
  | "audit"
  | "settings"
  | "me";

const NAV: { section: Section; href: string; label: string; minRole?: Role }[] = [
  { section: "overview", href: "/admin", label: "Overview" },
  { section: "members", href: "/admin/members", label: "Members" },
  { section: "mappings", href: "/admin/mappings", label: "Group mappings" },
  { section: "invitations", href: "/admin/invitations", label: "Invitations" },
  // Billing is for owners: admins do not see the entry (the page answers them 403).
  { section: "billing", href: "/admin/billing", label: "Billing", minRole: "owner" },
  { section: "connections", href: "/admin/connections", label: "Connections" },
  { section: "webhooks", href: "/admin/webhooks", label: "Webhooks" },
  { section: "audit", href: "/admin/audit", label: "Audit log" },
  { section: "settings", href: "/admin/settings", label: "Settings" },
];

export function roleName(role: Role): string {
  return role.replace("_", " ");
}

export function CsrfField({ token }: { token: string }) {
  return <input type="hidden" name="_csrf" value={token} />;
}

export function SignOut({ csrf }: { csrf: string }) {
  return (
    <form method="post" action="/admin/signout" class="inline">
      <CsrfField token={csrf} />
      <button type="submit" class="link">
        Sign out
      </button>
    </form>
  );
}

export function Layout(props: {
  title: string;
  viewer?: Viewer;
  section?: Section;
  /** Pages whose URL carries a secret (the claim link): no referrer, not indexed. */
  secretUrl?: boolean;
  children: ComponentChildren;
}) {
  const { viewer, section } = props;
  const console = viewer && roleAtLeast(viewer.role, "admin");
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        {props.secretUrl && <meta name="referrer" content="strict-origin" />}
        {props.secretUrl && <meta name="robots" content="noindex" />}
        <title>{viewer ? `${props.title} · ${viewer.orgName} · Roster` : `${props.title} · Roster`}</title>
        <link rel="icon" href="/admin/assets/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/admin/assets/console.css" />
        <script src="/admin/assets/console.js" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <div class="brand">
            <span class="logo" aria-hidden="true">
              R
            </span>
            <span>{viewer ? viewer.orgName : "Roster"}</span>
          </div>
          {viewer && (
            <div class="who">
              <span>
                {viewer.name} <span class="badge">{roleName(viewer.role)}</span>
              </span>
              <SignOut csrf={viewer.csrf} />
            </div>
          )}
        </header>
        {console && (
          <nav aria-label="Console" class="nav">
            <ul>
              {NAV.filter((n) => !n.minRole || roleAtLeast(viewer.role, n.minRole)).map((n) => (
                <li key={n.href}>
                  <a href={n.href} aria-current={n.section === section ? "page" : undefined}>
                    {n.label}
                  </a>
                </li>
              ))}
              <li>
                <a href="/me" aria-current={section === "me" ? "page" : undefined}>
                  My seat
                </a>
              </li>
            </ul>
          </nav>
        )}
        <main id="main" tabIndex={-1}>
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
    </html>
  );
}

export function Notice(props: { kind: "ok" | "error" | "info"; children: ComponentChildren }) {
  return (
    <div class={`notice ${props.kind}`} role={props.kind === "error" ? "alert" : "status"}>
      {props.children}
    </div>
  );
}

/** Sends a page: doctype, never cached (pages carry CSRF tokens and, once, secrets). */
export function sendPage(res: Response, status: number, page: preact.JSX.Element): void {
  res
    .status(status)
    .setHeader("Cache-Control", "no-store")
    .type("html")
    .send(`<!doctype html>${render(page)}`);
}

export function formatDate(d: Date | string | null | undefined): string {
  if (!d) return "—";
  const date = typeof d === "string" ? new Date(d) : d;
  return date.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

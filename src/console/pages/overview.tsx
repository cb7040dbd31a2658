// Overview: per seat type a bar of used / held / free and who waits; Unassigned; the term.
import { roleAtLeast } from "../../domain/roles.js";
import type { SeatOverview } from "../../services/orgs-service.js";
import { formatDate, Layout, type Viewer } from "../layout.js";

function pct(n: number, total: number): number {
  return total > 0 ? Math.round((n / total) * 1000) / 10 : 0;
}

function SeatBar(props: { used: number; held: number; free: number; label: string }) {
  const total = props.used + props.held + props.free;
  const u = pct(props.used, total);
  const h = pct(props.held, total);
  const f = total > 0 ? Math.max(0, 100 - u - h) : 100;
  return (
    <svg
      class="bar"
      viewBox="0 0 100 10"
      preserveAspectRatio="none"
      role="img"
      aria-label={`${props.label}: ${props.used} used, ${props.held} held, ${props.free} free`}
    >
      <rect class="used" x="0" y="0" width={u} height="10" />
      <rect class="held" x={u} y="0" width={h} height="10" />
      <rect class="free" x={u + h} y="0" width={f} height="10" />
    </svg>
  );
}

export function OverviewPage(props: { viewer: Viewer; seats: SeatOverview }) {
  const { viewer, seats } = props;
  const owner = roleAtLeast(viewer.role, "owner");
  return (
    <Layout title="Overview" viewer={viewer} section="overview">
      <p class="muted">
        Plan <strong>{seats.plan}</strong> · term {formatDate(seats.term.start).slice(0, 10)} to{" "}
        {formatDate(seats.term.end).slice(0, 10)}
      </p>
      <div class="grid">
        {seats.seatTypes.map((s) => {
          const waiting = s.waiting;
          return (
            <section class="panel seat-type" aria-labelledby={`type-${s.type}`} data-seat-type={s.type} key={s.type}>
              <h2 id={`type-${s.type}`}>{s.label}</h2>
              <p>
                <span class="big" data-used>
                  {s.used}
                </span>{" "}
                of <span data-purchased>{s.purchased}</span> seats used
              </p>
              <SeatBar used={s.used} held={s.held} free={s.available} label={s.label} />
              <ul class="legend">
                <li>
                  <span class="swatch used" aria-hidden="true"></span>Used {s.used}
                </li>
                <li>
                  <span class="swatch held" aria-hidden="true"></span>Held for admins {s.held}
                </li>
                <li>
                  <span class="swatch free" aria-hidden="true"></span>Free <span data-free>{s.available}</span>
                </li>
                <li>
                  Waiting <span data-waiting>{waiting}</span>
                </li>
              </ul>
              {waiting > 0 && (
                <p>
                  {waiting} {waiting === 1 ? "person waits" : "people wait"} for {s.label}.{" "}
                  {owner ? (
                    <a
                      class="button"
                      href={`/admin/billing?seatType=${encodeURIComponent(s.type)}&quantity=${waiting}`}
                    >
                      Buy {waiting} {waiting === 1 ? "seat" : "seats"}
                    </a>
                  ) : (
                    <span>Ask an owner to buy more seats.</span>
                  )}
                </p>
              )}
            </section>
          );
        })}
        <section class="panel" aria-labelledby="unassigned">
          <h2 id="unassigned">Unassigned</h2>
          <p>
            <span class="big" data-unassigned>
              {seats.unassigned}
            </span>{" "}
            active members have no seat
            {seats.waitingForAny > 0 ? `; ${seats.waitingForAny} of them wait for any type` : ""}.
          </p>
          {seats.waitingForAny > 0 && (
            <p>
              {owner ? (
                <a class="button" href={`/admin/billing?quantity=${seats.waitingForAny}`}>
                  Buy {seats.waitingForAny} {seats.waitingForAny === 1 ? "seat" : "seats"}
                </a>
              ) : (
                <span>Ask an owner to buy more seats.</span>
              )}
            </p>
          )}
          <p>
            <a href="/admin/members?seatType=unassigned">See who</a>
          </p>
        </section>
      </div>
    </Layout>
  );
}

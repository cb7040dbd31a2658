// Billing (owners): the term, prices per seat type in words, a quote that shows its lines and proration, a
// purchase behind a confirmation (its idempotency key made on the server, so a double submit charges once),
// the charges, and reductions scheduled for the renewal.
import type { Tier, TieringModel } from "../../domain/pricing.js";
import type { Charge, ScheduledReduction } from "../../repositories/billing-repository.js";
import type { BillingOverview, Quote } from "../../services/billing-service.js";
import type { SeatOverview } from "../../services/orgs-service.js";
import { CsrfField, formatDate, Layout, Notice, type Viewer } from "../layout.js";
import { type Labels, seatLabel } from "../words.js";

/** Minor units as money: 72000 usd → "$720.00". */
export function money(minor: number, currency: string): string {
  const format = new Intl.NumberFormat("en-US", { style: "currency", currency: currency.toUpperCase() });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(minor / 10 ** digits);
}

/** A line's amount: a negative amount is a credit. */
function amountInWords(minor: number, currency: string): string {
  return minor < 0 ? `credit of ${money(-minor, currency)}` : money(minor, currency);
}

function tierRange(tiers: readonly Tier[], i: number, model: TieringModel): string {
  const from = i === 0 ? 1 : (tiers[i - 1].upTo ?? 0) + 1;
  const upTo = tiers[i].upTo;
  if (model === "volume") {
    if (upTo === null) return `${from} seats or more`;
    return i === 0 ? `Up to ${upTo} seats` : `${from} to ${upTo} seats`;
  }
  if (upTo === null) return `Seat ${from} and up`;
  return `Seats ${from}–${upTo}`;
}

/** "Graduated: seats 1–100 at $720.00 each; …" */
export function priceInWords(price: { model: TieringModel; tiers: readonly Tier[] }, currency: string): string[] {
  const flat = (t: Tier) => (t.flatAmount ? ` plus ${money(t.flatAmount, currency)} once` : "");
  if (price.model === "fixed") {
    const t = price.tiers[0];
    return [`${money(t.unitAmount, currency)} per seat per term${flat(t)}.`];
  }
  const tiers = price.tiers.map(
    (t, i) => `${tierRange(price.tiers, i, price.model)}: ${money(t.unitAmount, currency)} each${flat(t)}`,
  );
  return price.model === "graduated"
    ? ["Graduated: each seat costs the price of the tier it falls in, per term.", ...tiers]
    : ["Volume: every seat costs the price of the tier the total number falls in, per term.", ...tiers];
}

function days(seconds: number): string {
  const d = seconds / 86_400;
  return d >= 10 ? d.toFixed(1) : d.toFixed(2);
}

export function QuoteView(props: { quote: Quote; labels: Labels }) {
  const { quote, labels } = props;
  const c = quote.currency;
  const first = quote.lines[0];
  return (
    <div data-quote>
      <div class="table-wrap">
        <table class="cards">
          <caption class="visually-hidden">Quote lines</caption>
          <thead>
            <tr>
              <th scope="col">Seat type</th>
              <th scope="col">Seats</th>
              <th scope="col">Term price before</th>
              <th scope="col">Term price after</th>
              <th scope="col">Share of the term left</th>
              <th scope="col">Amount</th>
            </tr>
          </thead>
          <tbody>
            {quote.lines.map((l) => (
              <tr key={l.seatType} data-line={l.seatType}>
                <td data-label="Seat type">{seatLabel(labels, l.seatType)}</td>
                <td data-label="Seats">
                  {l.from} → {l.to} <span class="muted">(+{l.to - l.from})</span>
                </td>
                <td data-label="Term price before">{money(l.termPriceBefore, c)}</td>
                <td data-label="Term price after">{money(l.termPriceAfter, c)}</td>
                <td data-label="Share of the term left">
                  <span class="mono">
                    {l.prorationNumerator.toLocaleString("en-US")} / {l.prorationDenominator.toLocaleString("en-US")}
                  </span>
                </td>
                <td data-label="Amount" data-amount>
                  {amountInWords(l.amount, c)}
                </td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row" colSpan={5}>
                {quote.total < 0 ? "Total (credit)" : "Total due now"}
              </th>
              <td data-label="Total" data-total>
                <strong>{amountInWords(quote.total, c)}</strong>
              </td>
            </tr>
          </tfoot>
        </table>
      </div>
      {first && (
        <p class="muted" data-proration>
          Priced at {formatDate(quote.at)}: {first.prorationNumerator.toLocaleString("en-US")} of the term’s{" "}
          {first.prorationDenominator.toLocaleString("en-US")} seconds are left ({days(first.prorationNumerator)} of{" "}
          {days(first.prorationDenominator)} days), a fraction of{" "}
          {(first.prorationNumerator / first.prorationDenominator).toFixed(4)}. Each line is (term price after − term
          price before) × {first.prorationNumerator.toLocaleString("en-US")} /{" "}
          {first.prorationDenominator.toLocaleString("en-US")}, rounded once to the smallest unit of the currency,
          halves away from zero; the total is the sum of the rounded lines. A negative amount is a credit.
        </p>
      )}
    </div>
  );
}

export function addQuery(add: Record<string, number>): string {
  const params = new URLSearchParams();
  for (const [t, n] of Object.entries(add)) if (n !== 0) params.set(`add_${t}`, String(n));
  return params.toString();
}

export interface BillingPageProps {
  viewer: Viewer;
  labels: Labels;
  billing: BillingOverview;
  seats: SeatOverview;
  /** Display names of the members who bought ("admin:<id>" → email). */
  names: Map<string, string>;
  /** The quote form's numbers (prefilled from ?seatType=&quantity=). */
  add: Record<string, number>;
  quote?: Quote;
  /** Said above the quote form: why it is prefilled. */
  prefillNote?: string;
  quoteError?: string;
  reductionError?: string;
  done?: string;
  error?: string;
}

function ChargesTable(props: { charges: Charge[]; labels: Labels; names: Map<string, string> }) {
  if (props.charges.length === 0) return <p>No purchases yet.</p>;
  return (
    <div class="table-wrap">
      <table class="cards">
        <caption class="visually-hidden">Charges</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Seats</th>
            <th scope="col">Total</th>
            <th scope="col">By</th>
          </tr>
        </thead>
        <tbody>
          {props.charges.map((ch) => (
            <tr key={ch.id} data-charge={ch.id}>
              <td data-label="When">{formatDate(ch.at)}</td>
              <td data-label="Seats">
                <ul class="fields">
                  {ch.lines.map((l) => (
                    <li key={l.seatType}>
                      {seatLabel(props.labels, l.seatType)}: {l.from} → {l.to} ({amountInWords(l.amount, ch.currency)})
                    </li>
                  ))}
                </ul>
              </td>
              <td data-label="Total">{amountInWords(ch.total, ch.currency)}</td>
              <td data-label="By">{props.names.get(ch.createdBy) ?? <span class="mono">{ch.createdBy}</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ReductionsTable(props: { reductions: ScheduledReduction[]; seats: SeatOverview; labels: Labels }) {
  if (props.reductions.length === 0) return <p>No reduction is scheduled.</p>;
  return (
    <div class="table-wrap">
      <table class="cards">
        <caption class="visually-hidden">Scheduled reductions</caption>
        <thead>
          <tr>
            <th scope="col">Seat type</th>
            <th scope="col">Seats now</th>
            <th scope="col">After the renewal</th>
            <th scope="col">On</th>
          </tr>
        </thead>
        <tbody>
          {props.reductions.map((r) => (
            <tr key={r.seatType} data-reduction={r.seatType}>
              <td data-label="Seat type">{seatLabel(props.labels, r.seatType)}</td>
              <td data-label="Seats now">{props.seats.seatTypes.find((s) => s.type === r.seatType)?.purchased ?? 0}</td>
              <td data-label="After the renewal">{r.to}</td>
              <td data-label="On">{formatDate(r.effectiveAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function BillingPage(props: BillingPageProps) {
  const { viewer, labels, billing, seats, add } = props;
  const c = billing.currency;
  const q = addQuery(add);
  return (
    <Layout title="Billing" viewer={viewer} section="billing">
      {props.done && <Notice kind="ok">{props.done}</Notice>}
      {props.error && <Notice kind="error">{props.error}</Notice>}
      <p class="muted">
        Plan <strong>{seats.plan}</strong> · term {formatDate(billing.term.start).slice(0, 10)} to{" "}
        {formatDate(billing.term.end).slice(0, 10)} · prices in {c.toUpperCase()}, per seat for the whole term
      </p>

      <section class="panel" aria-labelledby="prices">
        <h2 id="prices">Seats and prices</h2>
        <div class="table-wrap">
          <table class="cards">
            <thead>
              <tr>
                <th scope="col">Seat type</th>
                <th scope="col">Bought</th>
                <th scope="col">In use</th>
                <th scope="col">Price</th>
              </tr>
            </thead>
            <tbody>
              {seats.seatTypes.map((s) => {
                const price = billing.pricing[s.type];
                const words = price ? priceInWords(price, c) : ["No price"];
                return (
                  <tr key={s.type} data-price={s.type}>
                    <td data-label="Seat type">{s.label}</td>
                    <td data-label="Bought">{s.purchased}</td>
                    <td data-label="In use">
                      {s.used}
                      {s.waiting > 0 ? ` (${s.waiting} waiting)` : ""}
                    </td>
                    <td data-label="Price">
                      {words.length === 1 ? (
                        words[0]
                      ) : (
                        <>
                          {words[0]}
                          <ul class="fields">
                            {words.slice(1).map((w) => (
                              <li key={w}>{w}</li>
                            ))}
                          </ul>
                        </>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </section>

      <section class="panel" aria-labelledby="buy">
        <h2 id="buy">Buy seats</h2>
        {props.prefillNote && <Notice kind="info">{props.prefillNote}</Notice>}
        <p>Seats bought during the term are charged now for the part of the term that is left.</p>
        <form method="get" action="/admin/billing#buy" class="row">
          {seats.seatTypes.map((s) => (
            <label key={s.type}>
              {s.label} seats to add
              <input
                type="number"
                name={`add_${s.type}`}
                min={0}
                max={1000000}
                step={1}
                value={String(add[s.type] ?? 0)}
                inputMode="numeric"
              />
            </label>
          ))}
          <button type="submit">Get a quote</button>
        </form>
        {props.quoteError && <Notice kind="error">{props.quoteError}</Notice>}
        {props.quote && (
          <>
            <h3>Quote</h3>
            <QuoteView quote={props.quote} labels={labels} />
            <p>
              <a class="button" href={`/admin/billing/confirm?${q}`}>
                Buy these seats…
              </a>{" "}
              <span class="muted">You confirm on the next page; nothing is charged before.</span>
            </p>
          </>
        )}
      </section>

      <section class="panel" aria-labelledby="charges">
        <h2 id="charges">Charges</h2>
        <ChargesTable charges={billing.charges} labels={labels} names={props.names} />
      </section>

      <section class="panel" aria-labelledby="reductions">
        <h2 id="reductions">Fewer seats from the renewal</h2>
        <p>
          Seats cannot be removed during the term. Schedule the number of seats a type should have from the renewal on{" "}
          {formatDate(billing.term.end).slice(0, 10)}; it never goes below the seats in use then. Choosing the number
          bought now cancels a scheduled reduction.
        </p>
        <ReductionsTable reductions={billing.scheduledReductions} seats={seats} labels={labels} />
        {props.reductionError && <Notice kind="error">{props.reductionError}</Notice>}
        <form method="post" action="/admin/billing/reductions" class="row">
          <CsrfField token={viewer.csrf} />
          <label>
            Seat type
            <select name="seatType">
              {seats.seatTypes.map((s) => (
                <option value={s.type} key={s.type}>
                  {s.label} ({s.purchased} bought)
                </option>
              ))}
            </select>
          </label>
          <label>
            Seats from the renewal
            <input type="number" name="to" min={0} step={1} required inputMode="numeric" />
          </label>
          <button type="submit" class="secondary">
            Schedule
          </button>
        </form>
      </section>
    </Layout>
  );
}

export function ConfirmPurchasePage(props: {
  viewer: Viewer;
  labels: Labels;
  quote: Quote;
  add: Record<string, number>;
  idempotencyKey: string;
}) {
  const { viewer, quote, add } = props;
  const c = quote.currency;
  return (
    <Layout title="Confirm the purchase" viewer={viewer} section="billing">
      <section class="panel" aria-labelledby="confirm">
        <h2 id="confirm">
          {quote.total < 0 ? "You get a credit of " : "You will be charged "}
          {money(Math.abs(quote.total), c)} now
        </h2>
        <QuoteView quote={quote} labels={props.labels} />
        <p class="muted">
          The price is worked out again, to the second, when you confirm; it can only be lower by the time that passed.
          The new seats go at once to the people waiting, longest waiting first.
        </p>
        <form method="post" action="/admin/billing/purchase" class="row">
          <CsrfField token={viewer.csrf} />
          {/* Made on the server for this page: sending the form twice charges once. */}
          <input type="hidden" name="idempotencyKey" value={props.idempotencyKey} />
          {Object.entries(add)
            .filter(([, n]) => n !== 0)
            .map(([t, n]) => (
              <input type="hidden" name={`add_${t}`} value={String(n)} key={t} />
            ))}
          <button type="submit">Confirm and buy</button>
          <a href={`/admin/billing?${addQuery(add)}#buy`}>Cancel</a>
        </form>
      </section>
    </Layout>
  );
}

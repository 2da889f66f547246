// Studio card in search results and on host pages. WBS-005.
// NT-0062 cover photo, NT-0063 hourly and day rates.
import type { StudioSummary } from "./listingApi.ts";

export function formatMoney(minor: number, currency: string): string {
  return new Intl.NumberFormat("en", { style: "currency", currency }).format(minor / 100);
}

export function StudioCard({ studio }: { studio: StudioSummary }) {
  const cover = studio.photos[0];
  return (
    <article className="studio-card">
      {cover ? <img src={cover} alt={studio.title} loading="lazy" /> : <div className="studio-card__placeholder" />}
      <h3>{studio.title}</h3>
      <p className="studio-card__city">{studio.city}</p>
      <p className="studio-card__price">
        {formatMoney(studio.hourlyRateMinor, studio.currency)} / hour
        {studio.dayRateMinor !== undefined && <> · {formatMoney(studio.dayRateMinor, studio.currency)} / day</>}
      </p>
    </article>
  );
}

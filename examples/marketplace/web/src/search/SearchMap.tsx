// Map view with price pins. WBS-006, NT-0042.
import { pinLabel } from "./searchClient.ts";

export interface MapStudio {
  id: string;
  lat: number;
  lng: number;
  hourlyRateMinor: number;
  currency: string;
}

export function SearchMap({ studios, onSelect }: { studios: MapStudio[]; onSelect: (id: string) => void }) {
  return (
    <div className="search-map" role="region" aria-label="Studios on the map">
      {studios.map((s) => (
        <button
          key={s.id}
          className="search-map__pin"
          data-lat={s.lat}
          data-lng={s.lng}
          onClick={() => onSelect(s.id)}
        >
          {pinLabel(s.hourlyRateMinor, s.currency)}
        </button>
      ))}
    </div>
  );
}

// Shared HTTP helper for the web app. WBS-001; request IDs follow TD-0343.

export interface ApiError {
  status: number;
  code: string;
  message: string;
}

export type Fetcher = (input: string, init?: RequestInit) => Promise<Response>;

let requestCounter = 0;

/** A request ID the API gateway copies into every log line for this request. */
export function nextRequestId(prefix = "web"): string {
  requestCounter += 1;
  return `${prefix}-${requestCounter.toString(36).padStart(6, "0")}`;
}

async function parse<T>(response: Response): Promise<T> {
  if (!response.ok) {
    const body = (await response.json().catch(() => ({}))) as Partial<ApiError>;
    const error: ApiError = {
      status: response.status,
      code: body.code ?? "http_error",
      message: body.message ?? response.statusText,
    };
    throw error;
  }
  return (await response.json()) as T;
}

export async function getJson<T>(fetcher: Fetcher, path: string): Promise<T> {
  return parse<T>(await fetcher(path, { headers: { "x-request-id": nextRequestId() } }));
}

export async function postJson<T>(fetcher: Fetcher, path: string, body: unknown): Promise<T> {
  return parse<T>(
    await fetcher(path, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": nextRequestId() },
      body: JSON.stringify(body),
    }),
  );
}

/** HTTP for the checks: fetch with the student's time limit and a per-request timeout. */
import { maskUrl } from "../../../config/names";
import { oneLine, type CheckOptions } from "./types";

export interface Answer {
  readonly status: number;
  readonly text: string;
  json<T = unknown>(): T | undefined;
}

/** `url` joined to `base` (which may carry a path: https://host/ada/api/). */
export function join(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}

/** The answer, or throws an Error whose message is one line naming the request. */
export async function request(method: string, url: string, options: CheckOptions, init: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.requestTimeoutS * 1000)]);
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      signal,
      redirect: "manual",
      headers: { ...(init.body === undefined ? {} : { "content-type": "application/json" }), ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  } catch (error) {
    throw new Error(`${method} ${maskUrl(url)}: no answer: ${oneLine(error)}`);
  }
  const text = await response.text();
  return {
    status: response.status,
    text,
    json<T>() {
      try {
        return JSON.parse(text) as T;
      } catch {
        return undefined;
      }
    },
  };
}

/** The first 120 characters of a body, on one line. */
export function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat;
}

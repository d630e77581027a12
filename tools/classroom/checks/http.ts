/**
 * HTTP for the checks: node's http/https, within the student's time and a per-request timeout,
 * trusting the class proxy's certificate when it is self-signed (`caFile`), as curl does with
 * CURL_CA_BUNDLE for test_api.sh.
 */
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import { maskUrl } from "../../../config/names";
import type { CheckOptions } from "./types";

export interface Answer {
  readonly status: number;
  readonly text: string;
  json<T = unknown>(): T | undefined;
}

/** `path` joined to `base` (which may carry a path: https://host/ada/api/). */
export function join(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}

const MAX_BODY = 1024 * 1024;

/** The answer (any status), or throws an Error whose message is one line naming the request. */
export function request(method: string, url: string, options: CheckOptions, init: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const where = `${method} ${maskUrl(url)}`;
  return new Promise((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return reject(new Error(`${where}: not a URL`));
    }
    const client = target.protocol === "https:" ? https : target.protocol === "http:" ? http : undefined;
    if (client === undefined) return reject(new Error(`${where}: not an http(s) URL`));
    const body = init.body === undefined ? undefined : Buffer.from(JSON.stringify(init.body));
    const req = client.request(target, {
      method,
      signal: options.signal,
      timeout: options.requestTimeoutS * 1000,
      headers: { ...(body === undefined ? {} : { "content-type": "application/json", "content-length": String(body.length) }), ...init.headers },
      ...(options.caFile === undefined ? {} : { ca: fs.readFileSync(options.caFile) }),
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (error: NodeJS.ErrnoException) => {
      const why = options.signal.aborted ? "timed out" : error.code ? `${error.code}${error.message.includes(error.code) ? "" : `: ${error.message}`}` : error.message;
      reject(new Error(`${where}: no answer: ${why}`));
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_BODY) chunks.push(chunk);
      });
      res.on("error", (error) => reject(new Error(`${where}: the answer broke off: ${error.message}`)));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({
          status: res.statusCode ?? 0,
          text,
          json<T>() {
            try {
              return JSON.parse(text) as T;
            } catch {
              return undefined;
            }
          },
        });
      });
    });
    req.end(body);
  });
}

/** The first 120 characters of a body, on one line. */
export function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat;
}

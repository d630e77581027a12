/**
 * Git's smart HTTP protocol on loopback, for the classroom tests and the measurement: a tiny
 * server on 127.0.0.1 that hands each request to `git http-backend` (CGI), serving every bare
 * repository under a folder, over http:// or, with `tls`, over https:// with a self-signed
 * certificate (its file in `caFile`, for git's http.sslCAInfo).
 */
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import type { AddressInfo } from "net";
import * as path from "path";

export interface GitHttpServer {
  /** http(s)://127.0.0.1:PORT: a repository `x.git` of the root is at `${url}/x.git`. */
  readonly url: string;
  /** The certificate to trust (https only). */
  readonly caFile?: string;
  close(): Promise<void>;
}

/** `git clone --bare` of each repository into `root`/<name>.git; returns the names. */
export function bareCopies(repos: readonly { id: string; repositoryUrl: string }[], root: string): string[] {
  fs.mkdirSync(root, { recursive: true });
  return repos.map((r) => {
    execFileSync("git", ["clone", "--quiet", "--bare", "--", r.repositoryUrl, path.join(root, `${r.id}.git`)], { env: { PATH: process.env.PATH, HOME: root } });
    return `${r.id}.git`;
  });
}

function handle(root: string, req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const backend = spawn("git", ["http-backend"], {
    env: {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: "1",
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.replace(/^\?/, ""),
      REQUEST_METHOD: req.method ?? "GET",
      CONTENT_TYPE: req.headers["content-type"] ?? "",
      ...(req.headers["content-length"] === undefined ? {} : { CONTENT_LENGTH: req.headers["content-length"] }),
      ...(req.headers["content-encoding"] === undefined ? {} : { HTTP_CONTENT_ENCODING: String(req.headers["content-encoding"]) }),
      ...(req.headers["git-protocol"] === undefined ? {} : { GIT_PROTOCOL: String(req.headers["git-protocol"]) }),
      REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1",
    },
  });
  req.pipe(backend.stdin);
  let head = Buffer.alloc(0);
  let started = false;
  backend.stdout.on("data", (chunk: Buffer) => {
    if (started) return void res.write(chunk);
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf("\r\n\r\n") >= 0 ? head.indexOf("\r\n\r\n") + 4 : head.indexOf("\n\n") >= 0 ? head.indexOf("\n\n") + 2 : -1;
    if (end < 0) return;
    started = true;
    let status = 200;
    for (const line of head.subarray(0, end).toString("latin1").split(/\r?\n/)) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const [name, value] = [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
      if (name.toLowerCase() === "status") status = Number(value.split(" ")[0]);
      else res.setHeader(name, value);
    }
    res.writeHead(status);
    res.write(head.subarray(end));
  });
  backend.on("close", () => {
    if (!started) res.writeHead(502);
    res.end();
  });
  backend.on("error", () => res.destroy());
}

/** Serves the bare repositories under `root` until `close()`; `tls` makes a certificate in `workDir`. */
export async function serveGitOverHttp(root: string, options: { tls?: boolean; workDir?: string } = {}): Promise<GitHttpServer> {
  let server: http.Server;
  let caFile: string | undefined;
  if (options.tls) {
    const dir = options.workDir ?? root;
    const [key, cert] = [path.join(dir, "git-server-key.pem"), path.join(dir, "git-server-cert.pem")];
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert], { stdio: "ignore" });
    server = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => handle(root, req, res));
    caFile = cert;
  } else {
    server = http.createServer((req, res) => handle(root, req, res));
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    caFile,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

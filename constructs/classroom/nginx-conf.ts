/**
 * The class's reverse proxy configuration (nginx), rendered from the students' routes: one TLS
 * server on one port, `/<id>/` to that student's Jupyter (at `/<id>/jupyter/`, websockets included), `/<id>/api/` and
 * `/<id>/app/` when they have those services; anything else is a 404 that names no student.
 *
 * Upstreams are resolved at request time through Docker's DNS, so a student whose containers
 * are down (or not created yet) gets a 502 (within 5 s) and the proxy keeps serving everyone else.
 */

/**
 * Jupyter's base URL for a student: `/<id>/jupyter/`. Not `/<id>/` itself: Jupyter's own REST
 * API lives at `<base>/api/`, which would collide with the student's API at `/<id>/api/`.
 * `/<id>/` redirects here.
 */
export function jupyterBaseUrl(id: string): string {
  return `/${id}/jupyter/`;
}

/** Where one student's services are, by their container names on the student's network. */
export interface StudentRoutes {
  readonly id: string;
  /** `<container>:<port>` of Jupyter, served under `/<id>/jupyter/` (its base URL; `/<id>/` redirects there). */
  readonly jupyter: string;
  /** `<container>:<port>` of the API, served under `/<id>/api/` (prefix removed). @default - none */
  readonly api?: string;
  /** `<container>:<port>` of Streamlit, served under `/<id>/app/` (its base URL path). @default - none */
  readonly app?: string;
}

export interface NginxConfOptions {
  /** Port nginx listens on inside its container. */
  readonly listenPort: number;
  readonly serverName: string;
  readonly certificatePath: string;
  readonly keyPath: string;
}

/** Docker's embedded DNS server, on every user-defined network. */
export const DOCKER_DNS = "127.0.0.11";

function studentLocations(r: StudentRoutes): string[] {
  const upstream = (name: string, target: string) => [`      set $${name} http://${target};`];
  const common = ["      include /etc/nginx/week-proxy-headers.conf;"];
  const v = r.id.replace(/-/g, "_");
  const out = [
    `    location = /${r.id} { return 301 /${r.id}/; }`,
    `    location = /${r.id}/ { return 302 ${jupyterBaseUrl(r.id)}; }`,
    `    location ${jupyterBaseUrl(r.id)} {`,
    ...upstream(`jupyter_${v}`, r.jupyter),
    ...common,
    `      proxy_pass $jupyter_${v};`,
    "    }",
  ];
  if (r.api !== undefined) {
    out.push(
      `    location /${r.id}/api/ {`,
      ...upstream(`api_${v}`, r.api),
      ...common,
      `      rewrite ^/${r.id}/api/(.*)$ /$1 break;`,
      `      proxy_pass $api_${v};`,
      "    }",
    );
  }
  if (r.app !== undefined) {
    out.push(`    location /${r.id}/app/ {`, ...upstream(`app_${v}`, r.app), ...common, `      proxy_pass $app_${v};`, "    }");
  }
  return out;
}

/** The headers every proxied location sends: the client's host and scheme, websocket upgrades. */
export const PROXY_HEADERS = [
  "proxy_http_version 1.1;",
  "proxy_set_header Host $http_host;",
  "proxy_set_header X-Real-IP $remote_addr;",
  "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
  "proxy_set_header X-Forwarded-Proto $scheme;",
  "proxy_set_header Upgrade $http_upgrade;",
  "proxy_set_header Connection $connection_upgrade;",
  "proxy_connect_timeout 5s;",
  "proxy_read_timeout 3600s;",
  "proxy_send_timeout 3600s;",
  "proxy_buffering off;",
  "",
].join("\n");

/** nginx.conf of the class (complete: it replaces the image's own). */
export function renderNginxConf(routes: readonly StudentRoutes[], options: NginxConfOptions): string {
  return [
    "# The class's reverse proxy, rendered by constructs/classroom/nginx-conf.ts from the roster.",
    "worker_processes auto;",
    "pid /tmp/nginx.pid;",
    "error_log stderr warn;",
    "events { worker_connections 4096; }",
    "http {",
    "  access_log /dev/stdout;",
    "  client_body_temp_path /tmp/nginx-client-body;",
    "  proxy_temp_path /tmp/nginx-proxy;",
    "  fastcgi_temp_path /tmp/nginx-fastcgi;",
    "  uwsgi_temp_path /tmp/nginx-uwsgi;",
    "  scgi_temp_path /tmp/nginx-scgi;",
    "  server_tokens off;",
    "  client_max_body_size 200m;",
    `  resolver ${DOCKER_DNS} valid=10s ipv6=off;`,
    // A stopped student's name is unknown to Docker's DNS, which then asks the host's resolvers:
    // where those do not answer, nginx's default 30 s would hold the request; 502 after 5 s.
    "  resolver_timeout 5s;",
    "  map $http_upgrade $connection_upgrade { default upgrade; '' close; }",
    "  server {",
    `    listen ${options.listenPort} ssl;`,
    `    server_name ${options.serverName};`,
    `    ssl_certificate ${options.certificatePath};`,
    `    ssl_certificate_key ${options.keyPath};`,
    "    ssl_protocols TLSv1.2 TLSv1.3;",
    "    ssl_session_cache shared:week:10m;",
    '    add_header Strict-Transport-Security "max-age=31536000" always;',
    "    location = /healthz { access_log off; return 200 'ok\\n'; }",
    "    location / { return 404; }",
    ...routes.flatMap(studentLocations),
    "  }",
    "}",
    "",
  ].join("\n");
}
